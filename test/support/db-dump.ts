import BetterSqlite3 from 'better-sqlite3'

/** Every row of every table, to prove a failed command changed nothing. */
export function dumpDatabase(path: string): Record<string, unknown[]> {
  const sqlite = new BetterSqlite3(path, {readonly: true})
  try {
    const tables = sqlite.prepare("select name from sqlite_master where type = 'table' order by name").all() as Array<{name: string}>
    return Object.fromEntries(tables.map(({name}) => [name, sqlite.prepare(`select * from "${name}" order by rowid`).all()]))
  } finally {
    sqlite.close()
  }
}
