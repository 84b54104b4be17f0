/**
 * Putting a new proxy config in place without ever leaving the node worse off: the new text is checked by the
 * proxy's own validator before it goes anywhere, the swap is an atomic rename, and when applying it fails the
 * previous file is put back and applied again.
 */
import {randomBytes} from 'node:crypto'
import {
  chmodSync,
  chownSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {unreachable} from '../errors.js'
import {isAlive} from '../process-alive.js'
import {errorLine, runCommand, type CommandResult} from './run-command.js'

export interface ValidateSpec {
  /** The checker's argv; the config file to check is appended as the last argument. */
  command: string[]
}

export interface ApplySpec {
  /** Run with `/bin/sh -c`, e.g. `systemctl restart xray` or `systemctl reload sing-box`. */
  command: string
  timeoutMs: number
  /**
   * Asked after the command exits 0, where that status is no proof: `systemctl reload sing-box` only sends SIGHUP,
   * and a sing-box that refuses the new config logs it and keeps running the old one.
   */
  confirm?: () => Promise<ApplyConfirmation>
}

/** Whether the proxy took the new config; when not, why and what to do (the caller names the node). */
export type ApplyConfirmation = {took: true} | {took: false; reason: string; hint: string}

export interface ReplaceConfigOptions {
  path: string
  newText: string
  /**
   * The text `newText` was made from: the caller read the file and its rewriter parsed it and verified `newText`
   * (refusing a file that does not parse, with where). The file must still hold exactly that, or someone's edit
   * since would be lost; nothing is parsed again (at 100k users each parse of the config is 16 MB).
   */
  basedOn: string
  /** The proxy's checker (see findValidator); null or absent writes the file unchecked. */
  validate?: ValidateSpec | null
  validateTimeoutMs?: number
  /** How to make the proxy load the new file; null or absent only writes it. */
  apply?: ApplySpec | null
  /** Default `.sbq-bak`: the previous version is kept at PATH + suffix. */
  backupSuffix?: string
}

export interface ReplaceConfigResult {
  /** False when the file already held exactly `newText`; nothing was written, checked or applied. */
  changed: boolean
  /** The file actually written (symlinks resolved). */
  path: string
  backupPath: string | null
  validated: boolean
  applied: boolean
}

const DEFAULT_VALIDATE_TIMEOUT_MS = 60_000
/** A temp file this old is stale even if its PID is alive again: no rewrite takes an hour. */
const STALE_AFTER_MS = 60 * 60 * 1000

function quoteCommand(argv: readonly string[]): string {
  return argv.join(' ')
}

function describeFailure(result: CommandResult, timeoutMs: number, line: 'first' | 'last'): string {
  if (result.timedOut) return `did not finish within ${timeoutMs} ms`
  return `failed: "${errorLine(result, line)}"`
}

function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Writes `data` to a new file that only this user can read, flushed to disk; `adopt` gives it the original's mode. */
function writePrivate(path: string, data: string | Buffer): void {
  const fd = openSync(path, 'wx', 0o600)
  try {
    // The mode given to open is filtered by the umask; set it explicitly.
    fchmodSync(fd, 0o600)
    const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    let offset = 0
    while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** The original's mode (and owner, when root can set it), given just before the file takes the original's place. */
function adopt(path: string, like: Stats): void {
  if (process.getuid?.() === 0) chownSync(path, like.uid, like.gid)
  chmodSync(path, like.mode & 0o7777)
}

interface TempFile {
  folder: string
  file: string
}

/**
 * The new text waits in a private folder beside the target, `.NAME.sbq-PID-HEX.tmp/NAME`: the file keeps the target's
 * name (Xray picks the config format from its extension) on the same file system (so the rename is atomic), while
 * what a kill leaves behind is a folder that no proxy loads as config. sing-box `run -C` (cmd/sing-box/cmd_run.go)
 * skips folders; Xray `-confdir` (main/run.go) and V2Ray `-confdir` (main/main.go) take any entry whose name ends
 * .json/.jsonc/.toml/.yaml/.yml, folders too, and `.tmp` is none of those.
 */
function makeTempFile(path: string): TempFile {
  const folder = join(dirname(path), `.${basename(path)}.sbq-${process.pid}-${randomBytes(4).toString('hex')}.tmp`)
  mkdirSync(folder, {mode: 0o700})
  chmodSync(folder, 0o700)
  return {folder, file: join(folder, basename(path))}
}

function removeTempFile(temp: TempFile): void {
  rmSync(temp.folder, {recursive: true, force: true})
}

/**
 * Removes what a killed sbq left beside `path`: temp folders, and the temp files of older versions
 * (`.NAME.sbq-PID-HEX.EXT`, which `-C`/`-confdir` load as config), once their process is gone or an hour has passed
 * (a PID can be reused). Ages are measured against `own`, just made, so both sides are the file system's clock,
 * whatever this process's clock says. Another config's leftovers are not this rewrite's business.
 */
function removeStaleTempFiles(path: string, own: TempFile): void {
  const name = basename(path)
  const prefix = `.${name}.sbq-`
  const dir = dirname(path)
  const now = lstatSync(own.folder).mtimeMs
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith(prefix) || join(dir, entry) === own.folder) continue
    const match = /^(\d+)-[0-9a-f]{8}(\.[^.]*)?$/.exec(entry.slice(prefix.length))
    if (match === null) continue
    const entryPath = join(dir, entry)
    let stats: Stats
    try {
      stats = lstatSync(entryPath)
    } catch {
      continue
    }
    if (isAlive(Number(match[1])) && now - stats.mtimeMs < STALE_AFTER_MS) continue
    try {
      rmSync(entryPath, {recursive: true, force: true})
    } catch {
      // A leftover sbq may not remove (another owner) is no reason to leave the users' change unapplied.
    }
  }
}

/** Replaces PATH atomically with `data` (private temp file, fsync, rename, fsync of the directory). */
function atomicWrite(path: string, data: string | Buffer, like: Stats): void {
  const temp = makeTempFile(path)
  try {
    writePrivate(temp.file, data)
    adopt(temp.file, like)
    renameSync(temp.file, path)
  } finally {
    removeTempFile(temp)
  }
  fsyncDirectory(dirname(path))
}

function configChanged(path: string) {
  return unreachable(
    'CONFIG_CHANGED',
    `config "${path}" changed while sbq was updating it`,
    'run sbq again; sbq did not change it',
  )
}

export async function replaceConfigFile(options: ReplaceConfigOptions): Promise<ReplaceConfigResult> {
  let path: string
  try {
    path = realpathSync(options.path)
  } catch (error) {
    const reason = (error as Error).message
    throw unreachable(
      'CONFIG_MISSING',
      `config "${options.path}" cannot be read: ${reason}`,
      "check the node's config path",
    )
  }
  const original = readFileSync(path)
  const originalText = original.toString('utf8')
  if (originalText !== options.basedOn) throw configChanged(path)

  const backupPath = path + (options.backupSuffix ?? '.sbq-bak')
  if (originalText === options.newText)
    return {changed: false, path, backupPath: null, validated: false, applied: false}

  const stats = statSync(path)
  const dir = dirname(path)
  const temp = makeTempFile(path)
  let validated = false
  try {
    removeStaleTempFiles(path, temp)
    writePrivate(temp.file, options.newText)

    if (options.validate) {
      const timeoutMs = options.validateTimeoutMs ?? DEFAULT_VALIDATE_TIMEOUT_MS
      const result = await runCommand([...options.validate.command, temp.file], {timeoutMs, cwd: dir})
      if (result.exitCode !== 0) {
        const checker = quoteCommand(options.validate.command)
        throw unreachable(
          'CONFIG_REJECTED',
          `the new config for "${path}" was refused by "${checker}", which ${describeFailure(result, timeoutMs, 'last')}`,
          'sbq did not change the file; run the same check on the current file to see whether the problem was already there',
        )
      }
      validated = true
    }

    atomicWrite(backupPath, original, stats)

    // Someone may have edited the file while the validator ran; their change wins over sbq's.
    if (!readFileSync(path).equals(original)) throw configChanged(path)
    adopt(temp.file, stats)
    renameSync(temp.file, path)
    fsyncDirectory(dir)
  } finally {
    removeTempFile(temp)
  }

  if (!options.apply) return {changed: true, path, backupPath, validated, applied: false}

  const {command, timeoutMs, confirm} = options.apply
  const result = await runCommand(['/bin/sh', '-c', command], {timeoutMs})
  if (result.exitCode === 0) {
    const confirmation = confirm === undefined ? {took: true as const} : await confirm()
    if (confirmation.took) return {changed: true, path, backupPath, validated, applied: true}
    // The proxy still runs the previous config: the file goes back to it, so a later start loads what runs now and
    // the next run of sbq writes the change again. Applying it again would only drop everyone's connections.
    try {
      atomicWrite(path, original, stats)
    } catch (error) {
      const reason = (error as Error).message
      throw unreachable(
        'RELOAD_NOT_TAKEN',
        `${confirmation.reason}; sbq could not put the previous config "${path}" back (${reason})`,
        `copy "${backupPath}" over it by hand; ${confirmation.hint}`,
        error,
      )
    }
    throw unreachable(
      'RELOAD_NOT_TAKEN',
      `${confirmation.reason}; sbq put the previous config "${path}" back`,
      confirmation.hint,
    )
  }

  const cause = `applying the new config "${path}" with "${command}" ${describeFailure(result, timeoutMs, 'first')}`
  try {
    atomicWrite(path, original, stats)
  } catch (error) {
    const reason = (error as Error).message
    throw unreachable(
      'APPLY_FAILED',
      `${cause}; sbq could not put the previous config back (${reason})`,
      `copy "${backupPath}" over it by hand`,
      error,
    )
  }
  const again = await runCommand(['/bin/sh', '-c', command], {timeoutMs})
  if (again.exitCode === 0) {
    throw unreachable(
      'APPLY_FAILED',
      `${cause}; sbq restored the previous config and applied it again`,
      'fix the cause, then run sbq again',
    )
  }
  const againFailure = describeFailure(again, timeoutMs, 'first')
  throw unreachable(
    'APPLY_FAILED',
    `${cause}; sbq restored the previous config, but applying it again also ${againFailure}`,
    'the proxy may be down: check it by hand',
  )
}
