import {ExitCode, SbqError} from '../../errors.js'

/** How to get a working database back; the same words wherever sbq finds one damaged. */
const restoreHint = (path: string) =>
  `restore it from a copy made by sbq backup (cp BACKUP "${path}"); sbq did not change it`

/**
 * The error to show for SQLite saying the file itself is bad (SQLITE_CORRUPT and its extended codes, SQLITE_NOTADB),
 * wherever that surfaces: at opening, or in the first query that reads a damaged page. Undefined for anything else.
 */
export function damagedDatabase(path: string, error: unknown): SbqError | undefined {
  const code = (error as {code?: unknown} | null)?.code
  if (typeof code !== 'string') return undefined
  if (code === 'SQLITE_NOTADB') {
    return new SbqError('DATABASE_UNUSABLE', `database "${path}" is not an SQLite database`, {
      exit: ExitCode.invalidInput,
      hint: `point --db (or SBQ_DB) at an sbq database or a new file name, or ${restoreHint(path)}`,
      cause: error,
    })
  }
  if (!code.startsWith('SQLITE_CORRUPT')) return undefined
  return new SbqError('DATABASE_CORRUPT', `database "${path}" is damaged: ${(error as Error).message}`, {
    exit: ExitCode.invalidInput,
    hint: restoreHint(path),
    cause: error,
  })
}
