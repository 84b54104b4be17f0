import {
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readdirSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'

import BetterSqlite3 from 'better-sqlite3'

import {openDatabaseFileReadOnly} from '../db/open-database.js'
import type {Context} from '../context.js'
import {ExitCode, SbqError, invalidInput, notFound} from '../errors.js'
import {toLocal} from '../domain/zoned-time.js'

export interface BackupResult {
  /** The backup file written. */
  path: string
  bytes: number
  /** Older backups deleted by --keep, oldest first. */
  removed: string[]
}

const stampedName = /^sbq-\d{8}-\d{6}\.db$/

/** `sbq-YYYYMMDD-HHMMSS.db` in the install's zone: names sort in time order, which is what --keep relies on. */
export function backupFileName(now: number, timeZone: string): string {
  const local = toLocal(now, timeZone)
  const two = (value: number) => String(value).padStart(2, '0')
  return `sbq-${String(local.year).padStart(4, '0')}${two(local.month)}${two(local.day)}-${two(local.hour)}${two(local.minute)}${two(local.second)}.db`
}

/**
 * Copies the database with SQLite's online backup, which gives a consistent snapshot while other commands write.
 * The copy is written under a temporary name, private (0600) from its first byte, turned into a single self-contained
 * file (no WAL), and renamed into place, so a PATH never holds half a backup.
 */
export async function backupDatabase(
  databasePath: string,
  target: string,
  options: {keep?: number},
  context: Pick<Context, 'now' | 'timeZone'>,
): Promise<BackupResult> {
  const intoDirectory = existsSync(target) && statSync(target).isDirectory()
  if (options.keep !== undefined) {
    if (!intoDirectory)
      throw invalidInput(
        'KEEP_NEEDS_DIRECTORY',
        `--keep needs a directory, and "${target}" is not one`,
        'give a directory as PATH to keep a rotation of backups',
      )
    if (!Number.isInteger(options.keep) || options.keep < 1)
      throw invalidInput(
        'INVALID_KEEP',
        `--keep "${options.keep}" is not a positive whole number`,
        'give how many backups to keep, like --keep 7',
      )
  }
  const file = resolve(intoDirectory ? join(target, backupFileName(context.now, context.timeZone)) : target)
  if (!existsSync(dirname(file)))
    throw notFound(
      'BACKUP_DIRECTORY_NOT_FOUND',
      `directory "${dirname(file)}" does not exist`,
      'create it first, or give an existing directory',
    )
  assertNotTheDatabase(databasePath, file, target)

  const source = openDatabaseFileReadOnly(databasePath)
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`)
  try {
    closeSync(openSync(temporary, 'wx', 0o600))
    await source.backup(temporary)
    const copy = new BetterSqlite3(temporary)
    copy.pragma('journal_mode = DELETE')
    copy.close()
    const fd = openSync(temporary, 'r+')
    try {
      fchmodSync(fd, 0o600)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, file)
  } catch (error) {
    if (existsSync(temporary)) unlinkSync(temporary)
    if (error instanceof SbqError) throw error
    throw new SbqError(
      'BACKUP_FAILED',
      `backup to "${file}" failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        exit: ExitCode.invalidInput,
        hint: 'check that the target directory is writable and has space',
        cause: error,
      },
    )
  } finally {
    source.close()
  }

  const removed = intoDirectory && options.keep !== undefined ? removeOldBackups(dirname(file), options.keep) : []
  return {path: file, bytes: statSync(file).size, removed}
}

/**
 * A backup written over the database, or over its -wal, -shm or -journal file (which need not exist yet), would damage
 * the database under every reader. Compared by real directory, so another spelling or a symlinked directory is caught.
 */
function assertNotTheDatabase(databasePath: string, file: string, target: string): void {
  if (!existsSync(dirname(databasePath))) return
  const real = (path: string) =>
    existsSync(path) ? realpathSync(path) : join(realpathSync(dirname(path)), basename(path))
  const database = real(databasePath)
  const backup = real(file)
  if (backup === database)
    throw invalidInput(
      'BACKUP_OVER_DATABASE',
      `backup path "${target}" is the database itself`,
      'give another file or a directory',
    )
  const suffix = ['-wal', '-shm', '-journal'].find((ending) => backup === `${database}${ending}`)
  if (suffix !== undefined) {
    throw invalidInput(
      'BACKUP_OVER_DATABASE',
      `backup path "${target}" belongs to the database (its ${suffix.slice(1)} file)`,
      'give another file or a directory',
    )
  }
}

/** Deletes the oldest stamped backups beyond `keep`; other files in the directory are never touched. */
function removeOldBackups(directory: string, keep: number): string[] {
  const stamped = readdirSync(directory)
    .filter((name) => stampedName.test(name))
    .sort()
  const removed = stamped.slice(0, Math.max(0, stamped.length - keep)).map((name) => join(directory, name))
  for (const path of removed) unlinkSync(path)
  return removed
}
