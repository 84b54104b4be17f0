import {existsSync} from 'node:fs'

import BetterSqlite3 from 'better-sqlite3'

import {ExitCode, SbqError, notFound} from '../../errors.js'

/**
 * Opens the database file read-only, apart from sbq's Kysely connection: the backup API needs the raw better-sqlite3
 * handle, and a read-only handle cannot migrate or change what it copies.
 */
export function openSqliteReadOnly(path: string): BetterSqlite3.Database {
  if (!existsSync(path))
    throw notFound(
      'DATABASE_NOT_FOUND',
      `database "${path}" does not exist`,
      'point --db (or SBQ_DB) at the sbq database to back up',
    )
  try {
    return new BetterSqlite3(path, {readonly: true, fileMustExist: true, timeout: 5000})
  } catch (error) {
    throw new SbqError(
      'DATABASE_UNUSABLE',
      `database "${path}" cannot be opened: ${error instanceof Error ? error.message : String(error)}`,
      {
        exit: ExitCode.invalidInput,
        hint: 'point --db (or SBQ_DB) at a readable SQLite file',
        cause: error,
      },
    )
  }
}
