import {homedir} from 'node:os'
import {join} from 'node:path'

import {invalidInput, type SbqError} from '../errors.js'
import type {Db} from './database.js'
import type {OpenOptions} from './migrate.js'
import {postgresDialect} from './postgres/postgres-dialect.js'
import {openSqliteDatabase} from './sqlite/open-sqlite.js'
import {openSqliteReadOnly} from './sqlite/read-only.js'
import {sqliteDialect} from './sqlite/sqlite-dialect.js'

export type {Db} from './database.js'
export type {OpenOptions} from './migrate.js'

/** Where the database lives when neither --db nor SBQ_DB says: a system path for root, the XDG data dir otherwise. */
export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env, isRoot = process.getuid?.() === 0): string {
  if (isRoot) return '/var/lib/sbq/sbq.db'
  const dataHome = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(dataHome, 'sbq', 'sbq.db')
}

/** A postgres:// or postgresql:// URL names a PostgreSQL database; anything else is an SQLite file's path. */
export function isServerDatabase(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location)
}

/** The location as messages show it: a URL's password masked (it may sit in the URL, and messages reach logs). */
export function displayLocation(location: string): string {
  if (!isServerDatabase(location)) return location
  try {
    const url = new URL(location)
    if (url.password !== '') url.password = '***'
    return url.toString()
  } catch {
    return location.replace(/:[^:@/]*@/, ':***@')
  }
}

/**
 * Opens (creating if needed) and migrates the database: an SQLite file, or a PostgreSQL database that several sbq
 * hosts share (its driver loads only then).
 */
export async function openDatabase(location: string, options: OpenOptions = {}): Promise<Db> {
  if (!isServerDatabase(location)) return openSqliteDatabase(location, options)
  const {openPostgresDatabase} = await import('./postgres/open-postgres.js')
  return openPostgresDatabase(location, displayLocation(location), options)
}

/**
 * The one line for a failure that is the database's own (a damaged file, a server that went away mid-run), wherever
 * it surfaces; undefined for any other failure.
 */
export function databaseFailure(location: string, error: unknown): SbqError | undefined {
  const dialect = isServerDatabase(location) ? postgresDialect : sqliteDialect
  return dialect.describeFailure(displayLocation(location), error)
}

/**
 * The database file, opened read-only for `sbq backup` (SQLite's backup API copies a live file page by page). A
 * PostgreSQL database is backed up by PostgreSQL's own tools, or copied into a file by `sbq db copy`.
 */
export function openDatabaseFileReadOnly(location: string): ReturnType<typeof openSqliteReadOnly> {
  if (isServerDatabase(location))
    throw invalidInput(
      'BACKUP_NOT_A_FILE',
      `database "${displayLocation(location)}" is a PostgreSQL database, and sbq backup copies an SQLite file`,
      'back it up with pg_dump, or copy it into a file: sbq db copy --to FILE',
    )
  return openSqliteReadOnly(location)
}
