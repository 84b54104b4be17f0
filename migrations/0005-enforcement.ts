import type {Kysely} from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  // What sbq last put on each node successfully; the next check diffs against it, so what failed is retried.
  await db.schema
    .createTable('node_users')
    .addColumn('node_id', 'integer', (col) => col.notNull().references('nodes.id').onDelete('cascade'))
    .addColumn('user_name', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('node_users_pk', ['node_id', 'user_name'])
    .execute()

  await db.schema
    .alterTable('nodes')
    .addColumn('cut_sessions', 'integer', (col) => col.notNull().defaultTo(0))
    .execute()
  await db.schema.alterTable('nodes').addColumn('synced_at', 'bigint').execute()

  // One row per lock; a holder that died is recognised by its pid and replaced.
  await db.schema
    .createTable('locks')
    .addColumn('name', 'text', (col) => col.primaryKey())
    .addColumn('pid', 'integer', (col) => col.notNull())
    .addColumn('host', 'text', (col) => col.notNull())
    .addColumn('acquired_at', 'bigint', (col) => col.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('locks').execute()
  await db.schema.alterTable('nodes').dropColumn('synced_at').execute()
  await db.schema.alterTable('nodes').dropColumn('cut_sessions').execute()
  await db.schema.dropTable('node_users').execute()
}
