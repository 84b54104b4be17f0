import {sql, type Kysely} from 'kysely'

// A node's billing ratio (Marzban's usage coefficient, Remnawave's consumption multiplier), as an exact integer count
// of ten-thousandths so byte arithmetic never meets a float: 10000 bills every byte once. The ledger keeps what the
// proxy counted (raw_*) beside what quotas count (up/down, period_*/total_*, now billed bytes); every row written
// before this migration was billed at 1, so its raw bytes are its billed bytes.
const ledgerTables = ['usage_daily', 'usage_monthly', 'usage_closed_monthly'] as const
const rawRunningColumns = ['raw_period_up', 'raw_period_down', 'raw_total_up', 'raw_total_down'] as const

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('nodes')
    .addColumn('ratio_ten_thousandths', 'integer', (col) => col.notNull().defaultTo(10_000))
    .execute()
  for (const table of ledgerTables) {
    await db.schema
      .alterTable(table)
      .addColumn('raw_up', 'bigint', (col) => col.notNull().defaultTo(0))
      .execute()
    await db.schema
      .alterTable(table)
      .addColumn('raw_down', 'bigint', (col) => col.notNull().defaultTo(0))
      .execute()
    await sql`update ${sql.table(table)} set raw_up = up, raw_down = down`.execute(db)
  }
  for (const raw of rawRunningColumns) {
    await db.schema
      .alterTable('user_usage')
      .addColumn(raw, 'bigint', (col) => col.notNull().defaultTo(0))
      .execute()
  }
  await sql`update user_usage set raw_period_up = period_up, raw_period_down = period_down,
    raw_total_up = total_up, raw_total_down = total_down`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const raw of rawRunningColumns) await db.schema.alterTable('user_usage').dropColumn(raw).execute()
  for (const table of ledgerTables) {
    await db.schema.alterTable(table).dropColumn('raw_down').execute()
    await db.schema.alterTable(table).dropColumn('raw_up').execute()
  }
  await db.schema.alterTable('nodes').dropColumn('ratio_ten_thousandths').execute()
}
