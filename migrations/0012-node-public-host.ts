import type {Kysely} from 'kysely'

// The address clients dial for a node (share links), which is not its API address: that one is often loopback.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('nodes').addColumn('public_host', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('nodes').dropColumn('public_host').execute()
}
