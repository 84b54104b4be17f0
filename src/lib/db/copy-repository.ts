import {sql} from 'kysely'

import {batchedInsert} from './batched-upsert.js'
import type {Db} from './database.js'
import {dialectOf} from './dialects.js'
import {sbqTables, tableNames, type TableName} from './tables.js'

export {sbqTables, tableNames, type TableName} from './tables.js'

/** A row as the database returned it: column name to value, in the table's column order. */
export type CopiedRow = Record<string, unknown>

export async function countRows(db: Db, table: TableName): Promise<number> {
  const {rows} = await sql<{
    rows: number | string
  }>`select count(*) as ${sql.ref('rows')} from ${sql.table(table)}`.execute(db)
  return Number(rows[0]!.rows)
}

/**
 * The next `limit` rows of `table` after the row whose key is `after` (from the start without one), in key order.
 * Paging by key reads each page through the primary key's index, where an offset would rescan every row before it.
 */
export async function readPage(
  db: Db,
  table: TableName,
  after: readonly unknown[] | undefined,
  limit: number,
): Promise<CopiedRow[]> {
  const key = sbqTables[table].key
  const columns = sql.join(key.map((column) => sql.ref(column)))
  const where =
    after === undefined ? sql`` : sql`where (${columns}) > (${sql.join(after.map((value) => sql`${value}`))})`
  const {rows} =
    await sql<CopiedRow>`select * from ${sql.table(table)} ${where} order by ${columns} limit ${limit}`.execute(db)
  return rows
}

/** The key of a row read by readPage, to read the page after it. */
export function keyOf(table: TableName, row: CopiedRow): unknown[] {
  return sbqTables[table].key.map((column) => row[column])
}

/** Writes rows read from another sbq database as they are, ids included, in batches the dialect can bind. */
export async function insertRows(db: Db, table: TableName, rows: CopiedRow[]): Promise<void> {
  // The rows are whatever the table holds: typed as the table's own insert would make every caller cast.
  await batchedInsert(db, rows, (db, batch) => db.insertInto(table).values(batch as never))
}

/** After insertRows: the next id the database generates follows the copied ones (see Dialect.afterBulkInsert). */
export async function finishBulkInsert(db: Db, tables: readonly TableName[]): Promise<void> {
  await dialectOf(db).afterBulkInsert(
    db,
    tables.filter((table) => sbqTables[table].generatedId),
  )
}

/** Per user name, the figures a copy must keep: the running totals, and the sums of each ledger table. */
export const ledgerColumns = {
  user_usage: [
    'period_up',
    'period_down',
    'total_up',
    'total_down',
    'raw_period_up',
    'raw_period_down',
    'raw_total_up',
    'raw_total_down',
  ],
  usage_daily: ['up', 'down', 'raw_up', 'raw_down'],
  usage_closed_monthly: ['up', 'down', 'raw_up', 'raw_down'],
  usage_monthly: ['up', 'down', 'raw_up', 'raw_down'],
} as const

export type LedgerTable = keyof typeof ledgerColumns

/** Per ledger table, each user name's figures in the order of ledgerColumns. */
export type LedgerTotals = Record<LedgerTable, Map<string, number[]>>

export async function ledgerTotals(db: Db): Promise<LedgerTotals> {
  const running = await db
    .selectFrom('user_usage')
    .innerJoin('users', 'users.id', 'user_usage.user_id')
    .select(['users.name', ...ledgerColumns.user_usage])
    .execute()
  const totals: LedgerTotals = {
    user_usage: new Map(running.map((row) => [row.name, ledgerColumns.user_usage.map((column) => row[column])])),
    usage_daily: await sumsByUser(db, 'usage_daily'),
    usage_closed_monthly: await sumsByUser(db, 'usage_closed_monthly'),
    usage_monthly: await sumsByUser(db, 'usage_monthly'),
  }
  return totals
}

async function sumsByUser(
  db: Db,
  table: 'usage_daily' | 'usage_closed_monthly' | 'usage_monthly',
): Promise<Map<string, number[]>> {
  const rows = await db
    .selectFrom(table)
    .select((eb) => [
      'user_name',
      eb.fn.sum<number>('up').as('up'),
      eb.fn.sum<number>('down').as('down'),
      eb.fn.sum<number>('raw_up').as('raw_up'),
      eb.fn.sum<number>('raw_down').as('raw_down'),
    ])
    .groupBy('user_name')
    .execute()
  return new Map(
    rows.map((row) => [row.user_name, [Number(row.up), Number(row.down), Number(row.raw_up), Number(row.raw_down)]]),
  )
}

/** Tables that have rows, with their counts: a database a copy may write into has none. */
export async function nonEmptyTables(db: Db): Promise<Array<{name: TableName; rows: number}>> {
  const found: Array<{name: TableName; rows: number}> = []
  for (const name of tableNames) {
    const rows = await countRows(db, name)
    if (rows > 0) found.push({name, rows})
  }
  return found
}
