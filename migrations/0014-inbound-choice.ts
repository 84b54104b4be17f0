import type {Kysely} from 'kysely'

// Which inbounds (by tag) a plan's users, or one user, get: a JSON list of tags; null means the plan's choice (a user)
// or every managed inbound (a plan), so every existing row keeps what it had.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('plans').addColumn('inbounds', 'text').execute()
  await db.schema.alterTable('users').addColumn('inbounds', 'text').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('inbounds').execute()
  await db.schema.alterTable('plans').dropColumn('inbounds').execute()
}
