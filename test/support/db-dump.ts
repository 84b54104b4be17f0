import BetterSqlite3 from 'better-sqlite3'

function sortRows(rows: unknown[]): unknown[] {
  return rows
    .map((row) => [JSON.stringify(row), row] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, row]) => row)
}

/** Every row of every table, to prove a failed command changed nothing. */
export function dumpDatabase(path: string): Record<string, unknown[]> {
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
