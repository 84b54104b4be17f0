import {Migrator} from 'kysely'

import {migrations} from '../../../migrations/index.js'
import {ExitCode, SbqError, invalidInput} from '../errors.js'
import type {Db} from './database.js'

export const migrationNames = Object.keys(migrations)

export interface OpenOptions {
  /**
   * When 0010 refuses to upgrade because user names differ only in case, open the database at the schema before it
   * instead: `sbq user remove` is how the operator resolves the clash, so it must run on such a database.
   */
  beforeNameClashCheck?: boolean
  /** Gets the one line said when something about the database needs the operator's eye but does not stop sbq. */
  warn?: (line: string) => void
  /**
   * Whether opening may migrate: `always` (the default), `if-new` (only a database sbq never migrated: a new one),
   * `never` (it must already be at this sbq's schema, and exist; the caller only reads it, so SQLite's closing
   * `pragma optimize`, which writes the planner's statistics, is skipped too). `sbq db copy` reads a source it must not
   * change and writes into a target that must be new or empty.
   */
  migrate?: 'always' | 'if-new' | 'never'
}

const lastBeforeNameClashCheck = '0009-per-user-baselines'

/** Databases (by their adapter, which every transaction on them shares) opened at the schema before 0010. */
const openedBeforeNameClashCheck = new WeakSet<object>()

/**
 * Whether this handle is a database opened at the schema before 0010 (see OpenOptions): columns added since are not
 * there, so the reads `sbq user show` and `sbq user remove` make leave them out (every later one has a default).
 */
export function atSchemaBeforeNameClashCheck(db: Db): boolean {
  return openedBeforeNameClashCheck.has(db.getExecutor().adapter)
}

export function isSbqMigration(name: string): boolean {
  return Object.hasOwn(migrations, name)
}

/**
 * Refuses, before anything is written, a migration the caller did not allow (OpenOptions.migrate). `applied` is how
 * many of this sbq's migrations the database has.
 */
export function assertMayMigrate(location: string, applied: number, options: OpenOptions): void {
  const mode = options.migrate ?? 'always'
  if (mode === 'always' || (mode === 'if-new' && applied === 0)) return
  throw invalidInput(
    'DATABASE_NOT_CURRENT',
    applied === 0
      ? `database "${location}" has no sbq tables yet`
      : `database "${location}" is at an older sbq schema (${applied} of ${migrationNames.length} migrations)`,
    mode === 'never'
      ? applied === 0
        ? 'point --db (or SBQ_DB) at the sbq database to copy'
        : `run any sbq command on it first (sbq user list --db "${location}"), which upgrades it, then copy again`
      : `give a new database, or run any sbq command on this one first (sbq user list --db "${location}")`,
  )
}

export function tooNew(location: string, version: number): SbqError {
  return new SbqError('DATABASE_TOO_NEW', `database "${location}" was written by a newer sbq (schema ${version})`, {
    exit: ExitCode.invalidInput,
    hint: 'upgrade sbq to use this database',
  })
}

/**
 * Runs every pending migration (or stops before 0010, see OpenOptions), all in one transaction (a dialect whose adapter says it can change schemas inside
 * one), and says why in one line when it cannot. `describeFailure` names the dialect's own failures (a damaged
 * file, a server gone).
 */
export async function runMigrations(
  db: Db,
  location: string,
  options: OpenOptions,
  describeFailure: (location: string, error: unknown) => SbqError | undefined,
): Promise<'latest' | 'before-name-clash-check'> {
  const migrator = new Migrator({db, provider: {getMigrations: async () => migrations}})
  const {error} = await migrator.migrateToLatest()
  if (error instanceof SbqError && error.code === 'USER_NAME_CLASH' && options.beforeNameClashCheck) {
    const before = await migrator.migrateTo(lastBeforeNameClashCheck)
    if (before.error === undefined) {
      openedBeforeNameClashCheck.add(db.getExecutor().adapter)
      return 'before-name-clash-check'
    }
  }
  // A migration's own refusal (one that says what the operator must do first) is shown as it is, about this database.
  if (error instanceof SbqError)
    throw new SbqError(error.code, `database "${location}" ${error.message}`, {
      exit: error.exit,
      hint: error.hint,
      cause: error,
    })
  if (error) {
    throw (
      describeFailure(location, error) ??
      new SbqError('MIGRATION_FAILED', `database "${location}" could not be migrated: ${describe(error)}`, {
        exit: ExitCode.bug,
        cause: error,
      })
    )
  }
  return 'latest'
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
