import type {Kysely} from 'kysely'

// Monthly rollups are what `sbq prune` folds daily rows into, so a pruned month still reports the same totals.
// A month's usage is always its rollup rows plus its daily rows: prune moves bytes from one to the other in one
// transaction, so the two never count the same bytes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('usage_monthly')
    .addColumn('month', 'text', (col) => col.notNull())
    .addColumn('node_name', 'text', (col) => col.notNull())
    .addColumn('user_name', 'text', (col) => col.notNull())
    .addColumn('up', 'bigint', (col) => col.notNull())
    .addColumn('down', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('usage_monthly_pk', ['month', 'node_name', 'user_name'])
    .execute()

  await db.schema
    .createTable('unmanaged_usage_monthly')
    .addColumn('month', 'text', (col) => col.notNull())
    .addColumn('node_name', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('up', 'bigint', (col) => col.notNull())
    .addColumn('down', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('unmanaged_usage_monthly_pk', ['month', 'node_name', 'name'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['unmanaged_usage_monthly', 'usage_monthly']) await db.schema.dropTable(table).execute()
}
