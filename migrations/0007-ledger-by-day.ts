import {SqliteAdapter, sql, type Kysely} from 'kysely'

// 0002 keyed usage_daily user first. A pull writes one row per user for TODAY, and user-first order put each of those
// rows on a different page: at 100k users one pull rewrote ~100k pages (1.4 s of SQLite time). Day first, a pull's
// rows sit together, and one user's days are still a few index seeks away (`day IN (...) AND user_name = ?`).
//
// usage_closed_monthly holds, per month, the sum of the daily rows of days already closed (everything up to
// usage_closed_through.day), so a month report reads one row per user instead of one per user and day. Daily rows stay
// for per-day views; prune moves a month from both into usage_monthly.
export async function up(db: Kysely<unknown>): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter
  const usageDaily = db.schema
    .createTable('usage_daily_by_day')
    .addColumn('day', 'text', (col) => col.notNull())
    .addColumn('user_name', 'text', (col) => col.notNull())
    .addColumn('node_name', 'text', (col) => col.notNull())
    .addColumn('up', 'bigint', (col) => col.notNull())
    .addColumn('down', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('usage_daily_by_day_pk', ['day', 'user_name', 'node_name'])
  await (sqlite ? usageDaily.modifyEnd(sql`without rowid`) : usageDaily).execute()
  await sql`insert into usage_daily_by_day (day, user_name, node_name, up, down)
    select day, user_name, node_name, up, down from usage_daily order by day, user_name, node_name`.execute(db)
  await db.schema.dropTable('usage_daily').execute()
  await db.schema.alterTable('usage_daily_by_day').renameTo('usage_daily').execute()

  const closed = db.schema
    .createTable('usage_closed_monthly')
    .addColumn('month', 'text', (col) => col.notNull())
    .addColumn('user_name', 'text', (col) => col.notNull())
    .addColumn('node_name', 'text', (col) => col.notNull())
    .addColumn('up', 'bigint', (col) => col.notNull())
    .addColumn('down', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('usage_closed_monthly_pk', ['month', 'user_name', 'node_name'])
  await (sqlite ? closed.modifyEnd(sql`without rowid`) : closed).execute()

  // Each write to the ledger first moves users whose period ended into the current one; this finds them.
  await db.schema.createIndex('user_usage_period_end').on('user_usage').column('period_end').execute()

  // At most one row (id 1): the last local day whose daily rows are summed in usage_closed_monthly. No row: none are.
  await db.schema
    .createTable('usage_closed_through')
    .addColumn('id', 'integer', (col) => col.primaryKey().check(sql`id = 1`))
    .addColumn('day', 'text', (col) => col.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('user_usage_period_end').execute()
  await db.schema.dropTable('usage_closed_through').execute()
  await db.schema.dropTable('usage_closed_monthly').execute()
}
