import BetterSqlite3 from 'better-sqlite3'

import {psql} from './test-database.js'

/** In one order whatever the database: by each row's values in the order of their column names. */
function sortRows(rows: unknown[]): unknown[] {
  return rows
    .map((row) => [JSON.stringify(row, Object.keys(row as object).sort()), row] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, row]) => row)
}

/** Every row of every table, to prove a failed command changed nothing: an SQLite file or a PostgreSQL URL. */
export function dumpDatabase(path: string): Record<string, unknown[]> {
  if (/^postgres(ql)?:/.test(path)) return dumpPostgres(path)
  const sqlite = new BetterSqlite3(path, {readonly: true})
  try {
    const tables = sqlite.prepare("select name from sqlite_master where type = 'table' order by name").all() as Array<{
      name: string
    }>
    // Sorted in code, not by rowid: WITHOUT ROWID tables have none.
    return Object.fromEntries(tables.map(({name}) => [name, sortRows(sqlite.prepare(`select * from "${name}"`).all())]))
  } finally {
    sqlite.close()
  }
}

function dumpPostgres(url: string): Record<string, unknown[]> {
  const tables = psql(
    url,
    'select table_name from information_schema.tables where table_schema = current_schema() order by 1',
  )
    .split('\n')
    .filter(Boolean)
  if (tables.length === 0) return {}
  // jsonb prints on one line, and one object keyed by table keeps every table in one snapshot.
  const parts = tables.map((name) => `'${name}', (select coalesce(jsonb_agg(t), '[]') from "${name}" t)`)
  const all = JSON.parse(psql(url, `select jsonb_build_object(${parts.join(', ')})`)) as Record<string, unknown[]>
  return Object.fromEntries(tables.map((name) => [name, sortRows(all[name]!)]))
}
