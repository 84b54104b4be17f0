import {AliasNode, ColumnNode, IdentifierNode, ReferenceNode, sql, type SelectQueryBuilder} from 'kysely'

import type {Db} from './database.js'
import {dialectOf} from './dialects.js'

/** A select over any tables and joins: only the row type it returns matters here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tables and aliases of each caller's query
type AnySelect<O> = SelectQueryBuilder<any, any, O>

/**
 * Runs a query that returns many rows (a report over 100k users) and gets them as ONE JSON array of arrays built by
 * the database. better-sqlite3 builds each row object value by value, at about 0.5–0.9 µs a value on a small server;
 * the same rows as one JSON text cost SQLite little to write and V8's JSON.parse a fraction of that to read. Arrays
 * rather than objects keep the text half as long. The query must name every column it selects (no selectAll), each
 * once, and values must be JSON-safe: text, integers up to 2^53, null (a BLOB fails the whole read).
 * Each dialect spells the aggregate its own way (Dialect.jsonArrayOfRows).
 */
export async function selectJsonRows<O>(db: Db, query: AnySelect<O>): Promise<O[]> {
  const columns = selectedColumns(query)
  const dialect = dialectOf(db)
  const values = sql.join(columns.map((column) => sql.ref(`agg.${column}`)))
  const {rows} = await sql<{
    json: unknown
  }>`select ${dialect.jsonArrayOfRows(values)} as json from (${query}) as agg`.execute(db)
  return (dialect.readJson(rows[0]!.json) as unknown[][]).map(rowMaker(columns)) as O[]
}

/** One array per selected column, all in the query's row order: `{name: ['a', 'b'], up: [1, 2]}`. */
export type JsonColumns<O> = {[K in keyof O]: Array<O[K]>}

/**
 * The same read as selectJsonRows, returned as one array per column. For the largest reads, where even the row arrays
 * cost: JSON.parse then makes no array per row, and a column of numbers is one array of unboxed doubles instead of a
 * boxed number per value (at 100k users, 0.1 s less parsing and as much less garbage). The columns come from one
 * pass of one query, so index i is the same row in each.
 */
export async function selectJsonColumns<O>(db: Db, query: AnySelect<O>): Promise<JsonColumns<O>> {
  const columns = selectedColumns(query)
  const dialect = dialectOf(db)
  const arrays = columns.map(
    (column, index) => sql`${dialect.jsonArrayOf(sql.ref(`agg.${column}`))} as ${sql.id(`c${index}`)}`,
  )
  const {rows} = await sql<Record<string, unknown>>`select ${sql.join(arrays)} from (${query}) as agg`.execute(db)
  const result: Record<string, unknown[]> = {}
  columns.forEach((column, index) => (result[column] = dialect.readJson(rows[0]![`c${index}`])))
  return result as JsonColumns<O>
}

const rowMakers = new Map<string, (values: unknown[]) => object>()

/**
 * A function turning one array into one row object, written out for these columns: an object literal with fixed keys
 * is built five times faster than one filled key by key in a loop (0.02 s against 0.1 s for 100k rows of 11
 * columns). The keys are the query's own column names, JSON-quoted, never data.
 */
function rowMaker(columns: readonly string[]): (values: unknown[]) => object {
  const key = JSON.stringify(columns)
  let make = rowMakers.get(key)
  if (make === undefined) {
    make = new Function(
      'values',
      `return {${columns.map((column, index) => `${JSON.stringify(column)}: values[${index}]`).join(', ')}}`,
    ) as (values: unknown[]) => object
    rowMakers.set(key, make)
  }
  return make
}

/** The output names of a query's selections, as kysely's own json helpers find them. */
function selectedColumns(query: AnySelect<unknown>): string[] {
  const columns = (query.toOperationNode().selections ?? []).map(({selection}) => {
    if (ReferenceNode.is(selection) && ColumnNode.is(selection.column)) return selection.column.column.name
    if (ColumnNode.is(selection)) return selection.column.name
    if (AliasNode.is(selection) && IdentifierNode.is(selection.alias)) return selection.alias.name
    throw new Error('selectJsonRows needs every selected column named (no selectAll, no unaliased expressions)')
  })
  // SQLite renames a repeated output name (id, id:1), and "__proto__" in the row maker's literal would set the prototype.
  const refused = columns.find((column, index) => column === '__proto__' || columns.indexOf(column) !== index)
  if (refused !== undefined)
    throw new Error(`selectJsonRows cannot return the column name "${refused}" (repeated or reserved); alias it`)
  return columns
}
