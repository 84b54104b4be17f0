import BetterSqlite3 from 'better-sqlite3'

import {psql} from './test-database.js'

function sortRows(rows: unknown[]): unknown[] {
  return rows
    .map((row) => [JSON.stringify(row), row] as const)
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
  const lines = psql(url, ...tables.map((name) => `select coalesce(json_agg(t), '[]') from "${name}" t`)).split('\n')
  return Object.fromEntries(tables.map((name, index) => [name, sortRows(JSON.parse(lines[index]!) as unknown[])]))
}
