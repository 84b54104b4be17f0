import {chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync, type Stats} from 'node:fs'
import {dirname} from 'node:path'

import BetterSqlite3 from 'better-sqlite3'
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type TransactionSettings,
} from 'kysely'

import {SbqError, ExitCode, invalidInput, notFound} from '../../errors.js'
import type {Db} from '../database.js'
import {
  assertMayMigrate,
  describe,
  isSbqMigration,
  migrationNames,
  runMigrations,
  tooNew,
  type OpenOptions,
} from '../migrate.js'
import {SbqKysely} from '../sbq-kysely.js'
import {damagedDatabase} from './damaged-database.js'

/**
 * Opens (creating if needed) and migrates the database. The file and its directory are private (0600/0700): the
 * database holds every user's proxy credentials. `warn` gets the one line said when an existing file cannot be made
 * private.
 */
export async function openSqliteDatabase(path: string, options: OpenOptions = {}): Promise<Db> {
  // Opening creates a missing file; a database that must already be sbq's is refused before that.
  if (options.migrate === 'never' && path !== ':memory:' && path !== '' && !existsSync(path))
    throw notFound(
      'DATABASE_NOT_FOUND',
      `database "${path}" does not exist`,
      'point --db (or SBQ_DB) at the sbq database to copy',
    )
  const sqlite = openSqlite(path, options.warn ?? (() => {}))
  const db = new SbqKysely({dialect: immediateSqliteDialect(withStatementCache(sqlite, options.migrate !== 'never'))})
  try {
    await migrate(db, sqlite, path, options)
  } catch (error) {
    await db.destroy()
    throw error
  }
  return db
}

/**
 * SQLite changes schemas inside transactions, but kysely's SqliteAdapter says it cannot, so its Migrator would run
 * migrations bare: one that fails or is killed halfway (0007 copies every daily row, seconds at 100k users) would
 * leave a half-changed schema that no later run can migrate. Said so, the Migrator runs all pending migrations in one
 * transaction, which lands whole or not at all.
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true
  }
}

/**
 * Kysely begins a transaction with a plain (deferred) `begin`, which takes the write lock only at the first write. A
 * transaction that reads first and then writes (nearly all of sbq's do) finds another process's write in between
 * and gets SQLITE_BUSY at once: SQLite cannot wait for a lock a reader wants to upgrade, so the busy timeout never
 * applies, and the user sees "database is locked". `begin immediate` takes the write lock up front, where SQLite
 * does wait (up to busyTimeoutMs) for the writer before it to commit. A transaction started with
 * `setAccessMode('read only')` (a report's one snapshot) stays deferred: it never writes, and holding the write lock
 * for a seconds-long read would stall every writer behind it, while in WAL mode readers and the writer never wait for
 * each other.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    await connection.executeQuery(
      CompiledQuery.raw(settings?.accessMode === 'read only' ? 'begin deferred' : 'begin immediate'),
    )
  }
}

class TransactionalSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig

  constructor(config: SqliteDialectConfig) {
    super(config)
    this.#config = config
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter()
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config)
  }
}

export function immediateSqliteDialect(database: SqliteDatabase): SqliteDialect {
  return new TransactionalSqliteDialect({database})
}

/**
 * How long a writer waits for another one before SQLite gives up with "database is locked". Writers queue, so this
 * must outlast the longest write transactions sbq runs, with a few queued ahead: migration 0007 at 100,000 users
 * (about 6 s on 2 cores, once) and a check, reset or import that changes 10,000+ users at once (seconds). 60 s leaves
 * a wide margin on a loaded machine; only a process stuck while holding the lock (stopped with ^Z, an open `sqlite3`
 * shell) makes a writer wait that long and then fail, and a shorter wait would turn a slow but healthy writer into a
 * lost 3x-ui report. The wait blocks the waiting process (better-sqlite3 is synchronous): `sbq serve` answers nothing
 * else meanwhile, which is why it is not longer.
 */
const busyTimeoutMs = 60_000

const cachedStatements = 256

/**
 * Kysely's SQLite driver prepares every query it runs. Preparing is most of the cost of a small statement, and the
 * ledger runs the same batched statements hundreds of times per pull, so statements are kept by their SQL text.
 */
function withStatementCache(sqlite: BetterSqlite3.Database, optimizeOnClose: boolean): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>()
  return {
    // SQLite's advice for short-lived connections: keep the planner's statistics fresh on the way out (cheap: it only
    // analyses tables whose size changed a lot). Without them the month report scans and sorts every daily row. Not on
    // a database opened only to be read (a copy's source), which must not change.
    close: () => {
      if (optimizeOnClose) sqlite.pragma('optimize')
      sqlite.close()
    },
    prepare: (sql: string) => {
      let statement = statements.get(sql)
      if (!statement) {
        statement = sqlite.prepare(sql)
        if (statements.size >= cachedStatements) statements.delete(statements.keys().next().value!)
        statements.set(sql, statement)
      }
      return statement
    },
  }
}

function openSqlite(path: string, warn: (line: string) => void): BetterSqlite3.Database {
  const onDisk = path !== ':memory:' && path !== ''
  const existed = onDisk && existingOrNewFile(path)
  let sqlite: BetterSqlite3.Database
  try {
    sqlite = new BetterSqlite3(path, {timeout: busyTimeoutMs})
  } catch (error) {
    throw damagedDatabase(path, error) ?? cannotOpen(path, error)
  }
  try {
    // Before the first write: switching to WAL alone rewrites the file's header.
    if (onDisk) assertSbqDatabase(sqlite, path)
    if (existed) makePrivate(path, warn)
    sqlite.pragma('journal_mode = WAL')
    // NORMAL: in WAL mode a commit survives any process crash; a power cut may lose the last commits, and then the
    // ledger's baselines go back with its usage, so the next pull counts those bytes again, once.
    sqlite.pragma('synchronous = NORMAL')
    sqlite.pragma('foreign_keys = ON')
    // The default 2 MB page cache makes a 100k-user pull re-read index pages from the OS; 64 MB holds them.
    sqlite.pragma('cache_size = -65536')
    return sqlite
  } catch (error) {
    sqlite.close()
    if (error instanceof SbqError) throw error
    throw damagedDatabase(path, error) ?? cannotOpen(path, error)
  }
}

/**
 * Creates a missing database file, private from its first byte, and says whether it existed. An existing one must be
 * a regular file: opening a FIFO waits for a writer forever, and a directory or device is never a database.
 */
function existingOrNewFile(path: string): boolean {
  let stats: Stats
  try {
    stats = statSync(path)
  } catch {
    try {
      mkdirSync(dirname(path), {recursive: true, mode: 0o700})
      closeSync(openSync(path, 'a', 0o600))
    } catch (error) {
      throw cannotOpen(path, error)
    }
    return false
  }
  if (!stats.isFile()) {
    throw invalidInput(
      'DATABASE_NOT_A_FILE',
      `database "${path}" is not a regular file`,
      'point --db (or SBQ_DB) at an sbq database or a new file name',
    )
  }
  return true
}

/** An existing sbq database that others can read is made private: it, and its -wal and -shm, hold every credential. */
function makePrivate(path: string, warn: (line: string) => void): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    let mode: number
    try {
      mode = statSync(file).mode & 0o777
    } catch {
      // The -wal and -shm come and go with other sbq processes' connections.
      continue
    }
    if ((mode & 0o077) === 0) continue
    try {
      chmodSync(file, 0o600)
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? describe(error)
      if (reason === 'ENOENT') continue
      // One warning is enough: the -wal and -shm files have the same owner and the same fix.
      warn(
        `warning: database "${file}" is readable by other users (mode ${mode.toString(8).padStart(4, '0')}) and sbq cannot make it private: ${reason} (as its owner: chmod 600 "${path}"*)`,
      )
      return
    }
  }
}

/**
 * sbq never adopts another program's database: a file with tables but without sbq's migrations in the table kysely's
 * migrator keeps (another program may use kysely too) would get sbq's tables added to it and be switched to WAL.
 */
function assertSbqDatabase(sqlite: BetterSqlite3.Database, path: string): void {
  const names = sqlite
    .prepare("select name from sqlite_master where name not like 'sqlite\\_%' escape '\\'")
    .pluck()
    .all() as string[]
  if (names.length === 0 || (names.includes('kysely_migration') && (isUpToDate(sqlite) || onlySbqMigrations(sqlite))))
    return
  throw invalidInput(
    'DATABASE_NOT_SBQ',
    `database "${path}" is not an sbq database: it has other tables (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''})`,
    'point --db (or SBQ_DB) at an sbq database or a new file name; sbq did not change it',
  )
}

/** At or past this sbq's schema: nothing to migrate (a newer sbq's migrations are refused later, by version). */
function isUpToDate(sqlite: BetterSqlite3.Database): boolean {
  return (sqlite.pragma('user_version', {simple: true}) as number) >= migrationNames.length
}

function onlySbqMigrations(sqlite: BetterSqlite3.Database): boolean {
  return (sqlite.prepare('select name from kysely_migration').pluck().all() as string[]).every(isSbqMigration)
}

/** How many of sbq's migrations the file has (user_version is only a mirror, and older files may lack it). */
function appliedMigrations(sqlite: BetterSqlite3.Database): number {
  const table = sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get()
  if (table === undefined) return 0
  return (sqlite.prepare('select name from kysely_migration').pluck().all() as string[]).filter(isSbqMigration).length
}

function cannotOpen(path: string, error: unknown): SbqError {
  return new SbqError('DATABASE_UNUSABLE', `database "${path}" cannot be opened: ${describe(error)}`, {
    exit: ExitCode.invalidInput,
    hint: 'point --db (or SBQ_DB) at a writable SQLite file',
    cause: error,
  })
}

async function migrate(db: Db, sqlite: BetterSqlite3.Database, path: string, options: OpenOptions): Promise<void> {
  // user_version mirrors the migrator's state so an up-to-date database costs one pragma read at start-up.
  let version: number
  try {
    version = sqlite.pragma('user_version', {simple: true}) as number
  } catch (error) {
    throw damagedDatabase(path, error) ?? cannotOpen(path, error)
  }
  if (version === migrationNames.length) return
  if (version > migrationNames.length) throw tooNew(path, version)
  assertMayMigrate(path, appliedMigrations(sqlite), options)
  if ((await runMigrations(db, path, options, damagedDatabase)) === 'latest')
    sqlite.pragma(`user_version = ${migrationNames.length}`)
}
