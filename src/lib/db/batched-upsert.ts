import {CompiledQuery, sql, type InsertQueryBuilder, type InsertResult} from 'kysely'

import type {Db} from './database.js'
import type {RowSetColumn} from './dialect.js'
import {dialectOf} from './dialects.js'
import type {Database} from './schema.js'

const batchSize = 500

/**
 * Writes many rows with few statements. Kysely builds the multi-row statement (so the SQL stays the dialect's own);
 * it is compiled once per batch size and re-run with each batch's values, because compiling a fresh 500-row query for
 * every batch costs more than SQLite takes to run it.
 */
export async function batchedInsert<T extends keyof Database & string, R extends object>(
  db: Db,
  rows: R[],
  build: (db: Db, rows: R[]) => InsertQueryBuilder<Database, T, InsertResult>,
): Promise<void> {
  if (rows.length === 0) return
  const columns = Object.keys(rows[0]!)
  const compiled = new Map<number, string>()
  const rowsPerBatch = Math.min(batchSize, Math.floor(dialectOf(db).maxBoundValues / Math.max(1, columns.length)))
  for (let offset = 0; offset < rows.length; offset += rowsPerBatch) {
    const batch = rows.slice(offset, offset + rowsPerBatch)
    const parameters = flatten(batch, columns)
    let sqlText = compiled.get(batch.length)
    if (sqlText === undefined) {
      const query = build(db, batch).compile()
      // Reuse is only sound when Kysely's parameters are exactly the row values in column order.
      if (
        query.parameters.length !== parameters.length ||
        query.parameters.some((value, index) => value !== parameters[index])
      ) {
        await db.executeQuery(query)
        continue
      }
      sqlText = query.sql
      compiled.set(batch.length, sqlText)
    }
    await db.executeQuery(CompiledQuery.raw(sqlText, parameters))
    if (offset + rowsPerBatch < rows.length) await yieldToEventLoop()
  }
}

/** The SQL type of each column of the rows, for a dialect that writes them as one set. */
export type RowSetTypes<R> = {[K in keyof R & string]: RowSetColumn['type']}

/**
 * Writes many rows into `table` as the dialect writes a set fastest (Dialect.rowSet): one statement over all of them,
 * or multi-row VALUES in batches. `finish` adds what follows the rows (the upsert's `on conflict`); the rows must not
 * repeat a key it updates, since one statement cannot update a row twice.
 */
export async function insertRowSet<T extends keyof Database & string, R extends object>(
  db: Db,
  table: T,
  rows: R[],
  types: RowSetTypes<R>,
  finish: (insert: InsertQueryBuilder<Database, T, InsertResult>) => InsertQueryBuilder<Database, T, InsertResult>,
): Promise<void> {
  if (rows.length === 0) return
  const columns = (Object.keys(types) as Array<keyof R & string>).map((name) => ({name, type: types[name]}))
  const set = dialectOf(db).rowSet(columns, rows)
  if (set === null) {
    await batchedInsert(db, rows, (batchDb, batch) => finish(batchDb.insertInto(table).values(batch as never)))
    return
  }
  const names = columns.map(({name}) => name) as never[]
  await finish(
    db
      .insertInto(table)
      .columns(names)
      .expression(sql`select * from ${set} as row_set`),
  ).execute()
}

/**
 * Lets the event loop run between the batches of a big read or write, so `sbq serve` keeps answering (/healthz, other
 * nodes' reports being read) while a 150k-client report is written. A transaction stays open: other writers in the
 * process wait for its connection, so the write stays whole.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The batch's values row by row in column order (plain loops: this runs for every value of a 100k-row write). */
function flatten(batch: readonly object[], columns: readonly string[]): unknown[] {
  const parameters = new Array<unknown>(batch.length * columns.length)
  let index = 0
  for (const row of batch) for (const column of columns) parameters[index++] = (row as Record<string, unknown>)[column]
  return parameters
}
