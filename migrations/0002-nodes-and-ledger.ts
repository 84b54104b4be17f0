import {SqliteAdapter, sql, type Kysely} from 'kysely'

// Usage rows are keyed by node and user NAME, not id, so removing a node or a user never deletes counted traffic.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('nodes')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('name', 'text', (col) => col.notNull().unique())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('api', 'text', (col) => col.notNull())
    .addColumn('config_path', 'text')
    // JSON array of inbound tags sbq manages; null means every inbound with a user list.
    .addColumn('inbounds', 'text')
    .addColumn('apply_command', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('last_pull_at', 'bigint')
    .addColumn('last_error', 'text')
    .execute()

  // The last value seen of every counter of a node, replaced whole in the same transaction as the usage it produced.
  await db.schema
    .createTable('node_baselines')
    .addColumn('node_id', 'integer', (col) => col.primaryKey().references('nodes.id').onDelete('cascade'))
    .addColumn('taken_at', 'bigint', (col) => col.notNull())
    .addColumn('uptime_seconds', 'bigint')
    .addColumn('counters', 'text', (col) => col.notNull())
    .execute()

  // Keyed user first: one user's days are one range, a month report reads users in order (no sort), and on SQLite
  // the table is its own index (WITHOUT ROWID), so a pull writes one B-tree per row instead of three.
  const usageDaily = db.schema
    .createTable('usage_daily')
    .addColumn('day', 'text', (col) => col.notNull())
    .addColumn('node_name', 'text', (col) => col.notNull())
    .addColumn('user_name', 'text', (col) => col.notNull())
    .addColumn('up', 'bigint', (col) => col.notNull())
    .addColumn('down', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('usage_daily_pk', ['user_name', 'day', 'node_name'])
  await (
    db.getExecutor().adapter instanceof SqliteAdapter ? usageDaily.modifyEnd(sql`without rowid`) : usageDaily
  ).execute()

  // Traffic of names sbq does not manage: kept apart, never billed, reported as unmanaged.
  await db.schema
    .createTable('unmanaged_usage_daily')
    .addColumn('day', 'text', (col) => col.notNull())
    .addColumn('node_name', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('up', 'bigint', (col) => col.notNull())
    .addColumn('down', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('unmanaged_usage_daily_pk', ['day', 'node_name', 'name'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['unmanaged_usage_daily', 'usage_daily', 'node_baselines', 'nodes'])
    await db.schema.dropTable(table).execute()
}
