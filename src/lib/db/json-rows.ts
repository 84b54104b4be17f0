import {AliasNode, ColumnNode, IdentifierNode, ReferenceNode, sql, type SelectQueryBuilder} from 'kysely'

import type {Db} from './open-database.js'

/**
 * Runs a query that returns many rows (a report over 100k users) and gets them as ONE JSON array of arrays built by
 * the database. better-sqlite3 builds each row object value by value, at about 0.5–0.9 µs a value on a small server;
 * the same rows as one JSON text cost SQLite little to write and V8's JSON.parse a fraction of that to read. Arrays
 * rather than objects keep the text half as long. The query must name every column it selects (no selectAll), and
 * values must be JSON-safe: text, integers up to 2^53, null.
 *
 * json_group_array/json_array is the SQLite spelling; the PostgreSQL dialect will use json_agg(json_build_array(...)),
 * whose driver parses the JSON itself.
 */
export async function selectJsonRows<O>(db: Db, query: SelectQueryBuilder<any, any, O>): Promise<O[]> {
  const columns = selectedColumns(query)
  const values = sql.join(columns.map((column) => sql.ref(`agg.${column}`)))
  const {rows} = await sql<{json: string}>`select coalesce(json_group_array(json_array(${values})), '[]') as json from (${query}) as agg`.execute(db)
  const arrays = JSON.parse(rows[0]!.json) as unknown[][]
  const objects = new Array<O>(arrays.length)
  for (let index = 0; index < arrays.length; index++) {
    const array = arrays[index]!
    const object: Record<string, unknown> = {}
    for (let column = 0; column < columns.length; column++) object[columns[column]!] = array[column]
    objects[index] = object as O
  }
  return objects
}

/** The output names of a query's selections, as kysely's own json helpers find them. */
function selectedColumns(query: SelectQueryBuilder<any, any, unknown>): string[] {
  return (query.toOperationNode().selections ?? []).map(({selection}) => {
    if (ReferenceNode.is(selection) && ColumnNode.is(selection.column)) return selection.column.column.name
    if (ColumnNode.is(selection)) return selection.column.name
    if (AliasNode.is(selection) && IdentifierNode.is(selection.alias)) return selection.alias.name
    throw new Error('selectJsonRows needs every selected column named (no selectAll, no unaliased expressions)')
  })
}
