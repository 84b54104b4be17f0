import {existsSync, realpathSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {performance} from 'node:perf_hooks'

import {
  countRows,
  finishBulkInsert,
  insertRows,
  keyOf,
  ledgerColumns,
  ledgerTotals,
  nonEmptyTables,
  readPage,
  sbqTables,
  tableNames,
  type LedgerTable,
  type LedgerTotals,
  type TableName,
} from '../db/copy-repository.js'
import {databaseFailure, displayLocation, isServerDatabase, openDatabase, type Db} from '../db/open-database.js'
import {ExitCode, SbqError, conflict, invalidInput} from '../errors.js'

export interface DbCopyResult {
  /** The source and the target, passwords masked. */
  from: string
  to: string
  /** Every copied table with its rows, parents first; each count is the same in the source and the copy. */
  tables: Array<{name: string; rows: number}>
  users: number
  /** All users' running totals (user_usage), equal in the source and the copy. */
  totalUp: number
  totalDown: number
  /** Row counts and every user's ledger figures were read back from the copy and found equal to the source's. */
  verified: true
  /** Tables left out, and why. */
  skipped: Array<{name: string; reason: string}>
  seconds: number
}

export interface DbCopyOptions {
  /** Gets a line now and then while a large table is copied. */
  progress?: (line: string) => void
  warn?: (line: string) => void
}

/** Rows read from the source at a time: a page is all a copy holds, whatever the size of the table. */
const pageRows = 5_000
const progressEvery = 500_000

/**
 * `sbq db copy`: copies every sbq table of the database at `from` into the new or empty database at `to`, from one
 * read-only snapshot of the source, in one write transaction on the target (all or nothing), then reads the copy
 * back inside that transaction and compares it with the source: row counts per table, and per user the running
 * totals and the sums of every ledger table. A difference rolls the whole copy back.
 *
 * The source is never changed: it must exist and already be at this sbq's schema (migrating it would be a change the
 * operator did not ask for). The target is migrated when new, and must then have no rows in any sbq table.
 */
export async function copyDatabase(from: string, to: string, options: DbCopyOptions = {}): Promise<DbCopyResult> {
  const started = performance.now()
  if (sameDatabase(from, to))
    throw invalidInput(
      'COPY_ONTO_SOURCE',
      `copy target "${displayLocation(to)}" is the database being copied`,
      'give a new database or file as --to',
    )
  const source = await openDatabase(from, {migrate: 'never', warn: options.warn})
  try {
    const target = await openDatabase(to, {migrate: 'if-new', warn: options.warn})
    try {
      const copied = await copyAll(source, target, from, to, options)
      return {
        from: displayLocation(from),
        to: displayLocation(to),
        ...copied,
        verified: true,
        skipped: tableNames.flatMap((name) => {
          const reason = sbqTables[name].notCopied
          return reason === undefined ? [] : [{name, reason}]
        }),
        seconds: Math.round(performance.now() - started) / 1000,
      }
    } finally {
      await target.destroy()
    }
  } finally {
    await source.destroy()
  }
}

const copiedTables = tableNames.filter((name) => sbqTables[name].notCopied === undefined)

async function copyAll(
  source: Db,
  target: Db,
  from: string,
  to: string,
  options: DbCopyOptions,
): Promise<Pick<DbCopyResult, 'tables' | 'users' | 'totalUp' | 'totalDown'>> {
  // A failure of either database is said about that database (a server gone, a damaged file).
  const onSource = <T>(work: Promise<T>): Promise<T> =>
    work.catch((error: unknown) => Promise.reject(databaseFailure(from, error) ?? error))
  const onTarget = <T>(work: Promise<T>): Promise<T> =>
    work.catch((error: unknown) => Promise.reject(databaseFailure(to, error) ?? error))
  // Repeatable read: on PostgreSQL each statement of a read-committed transaction would see a newer state, and a
  // pull landing between two tables would make the copy disagree with itself. SQLite's snapshot is the transaction's.
  return source
    .transaction()
    .setAccessMode('read only')
    .setIsolationLevel('repeatable read')
    .execute(async (snapshot) => {
      const counts = new Map<TableName, number>()
      for (const name of copiedTables) counts.set(name, await onSource(countRows(snapshot, name)))
      const expected = await onSource(ledgerTotals(snapshot))
      return target.transaction().execute(async (trx) => {
        const occupied = await onTarget(nonEmptyTables(trx))
        if (occupied.length > 0) throw notEmpty(to, occupied)
        for (const name of copiedTables)
          await copyTable(snapshot, trx, name, counts.get(name)!, onSource, onTarget, options)
        await onTarget(finishBulkInsert(trx, copiedTables))

        for (const name of copiedTables) {
          const rows = await onTarget(countRows(trx, name))
          if (rows !== counts.get(name))
            throw mismatch(to, `table ${name} has ${counts.get(name)} rows in the source and ${rows} in the copy`)
        }
        compareLedgers(to, expected, await onTarget(ledgerTotals(trx)))
        let totalUp = 0
        let totalDown = 0
        for (const [, figures] of expected.user_usage) {
          totalUp += figures[2]!
          totalDown += figures[3]!
        }
        return {
          tables: copiedTables.map((name) => ({name, rows: counts.get(name)!})),
          users: counts.get('users')!,
          totalUp,
          totalDown,
        }
      })
    })
}

async function copyTable(
  source: Db,
  target: Db,
  name: TableName,
  total: number,
  onSource: <T>(work: Promise<T>) => Promise<T>,
  onTarget: <T>(work: Promise<T>) => Promise<T>,
  options: DbCopyOptions,
): Promise<void> {
  let after: unknown[] | undefined
  let done = 0
  for (;;) {
    const rows = await onSource(readPage(source, name, after, pageRows))
    if (rows.length === 0) break
    await onTarget(insertRows(target, name, rows))
    const before = done
    done += rows.length
    if (
      Math.floor(done / progressEvery) > Math.floor(before / progressEvery) ||
      (done === total && total >= progressEvery)
    )
      options.progress?.(`copying ${name}: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} rows`)
    if (rows.length < pageRows) break
    after = keyOf(name, rows.at(-1)!)
  }
}

function compareLedgers(to: string, expected: LedgerTotals, actual: LedgerTotals): void {
  for (const table of Object.keys(ledgerColumns) as LedgerTable[]) {
    const columns = ledgerColumns[table]
    const copy = actual[table]
    for (const [user, figures] of expected[table]) {
      const copied = copy.get(user)
      if (copied === undefined)
        throw mismatch(to, `user "${user}" has ${table} rows in the source and none in the copy`)
      const differs = columns.findIndex((_, index) => figures[index] !== copied[index])
      if (differs >= 0)
        throw mismatch(
          to,
          `user "${user}" has ${table} ${columns[differs]} ${figures[differs]} in the source and ${copied[differs]} in the copy`,
        )
    }
    for (const user of copy.keys())
      if (!expected[table].has(user))
        throw mismatch(to, `user "${user}" has ${table} rows in the copy and none in the source`)
  }
}

function mismatch(to: string, what: string): SbqError {
  return new SbqError('COPY_MISMATCH', `copy into "${displayLocation(to)}" differs from its source: ${what}`, {
    exit: ExitCode.bug,
    hint: 'the copy was rolled back, so the target holds no rows; this is a bug in sbq, report it with this line',
  })
}

function notEmpty(to: string, occupied: Array<{name: string; rows: number}>): SbqError {
  const listed = occupied.map(({name, rows}) => `${name} (${rows})`)
  return conflict(
    'DATABASE_NOT_EMPTY',
    `database "${displayLocation(to)}" is not empty: it has rows in ${listed.slice(0, 3).join(', ')}${listed.length > 3 ? ', ...' : ''}`,
    'sbq db copy writes only into a new database: give a new file, or an empty PostgreSQL database (createdb --locale=C --template=template0 NAME); sbq did not change it',
  )
}

/** Whether two locations name one database: the same file (any spelling, symlinks followed) or server database. */
function sameDatabase(a: string, b: string): boolean {
  if (isServerDatabase(a) !== isServerDatabase(b)) return false
  if (isServerDatabase(a)) return serverDatabase(a) === serverDatabase(b)
  return realFile(a) === realFile(b)
}

function serverDatabase(location: string): string {
  try {
    const url = new URL(location)
    return `${url.hostname.toLowerCase()}:${url.port || '5432'}${url.pathname}`
  } catch {
    return location
  }
}

function realFile(path: string): string {
  if (existsSync(path)) return realpathSync(path)
  const directory = dirname(resolve(path))
  return existsSync(directory) ? join(realpathSync(directory), basename(path)) : resolve(path)
}
