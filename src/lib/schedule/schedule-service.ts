import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {userInfo} from 'node:os'
import {join, resolve} from 'node:path'

import {findOnPath} from '../config-file/find-on-path.js'
import {isServerDatabase} from '../db/open-database.js'
import {invalidInput, unreachable} from '../errors.js'
import {parseInterval, parseListen} from '../domain/schedule-input.js'
import {crontabLine, serveUnit, systemdUnits} from './units.js'

export const unitName = 'sbq-check'
export const serveUnitName = 'sbq-serve'
/** The account `sbq serve` runs as when it exists; root otherwise. */
export const serviceUser = 'sbq'

export interface ScheduleInput {
  every: string
  /** The sbq executable cron/systemd should run. */
  sbqPath: string
  /**
   * As given; the schedule gets a file's absolute path, since cron and systemd run sbq from another directory, and a
   * PostgreSQL URL as it is.
   */
  database: string
  /** Check only these nodes (`check --node`), as a proxy host of a fleet does; every node when empty. */
  nodes?: readonly string[]
  unitDir: string
  /** Run systemctl daemon-reload + enable --now (false: only write the files). */
  enable: boolean
}

export interface ScheduleResult {
  method: 'systemd' | 'cron'
  files: string[]
  enabled: boolean
  crontab: string | null
}

function quote(argument: string): string {
  return /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replaceAll("'", "'\\''")}'`
}

function checkCommand(input: Pick<ScheduleInput, 'sbqPath' | 'nodes'>): string {
  const nodes = (input.nodes ?? []).map((node) => ` --node ${quote(node)}`).join('')
  return `${quote(process.execPath)} ${quote(input.sbqPath)} check --quiet${nodes}`
}

/**
 * The database's absolute path, with it and the programs the schedule runs checked: a line break cannot be said in
 * a crontab line or a unit file (it would end the line and start another).
 */
function scheduledDatabase(input: Pick<ScheduleInput, 'sbqPath' | 'database' | 'nodes'>): string {
  const database = isServerDatabase(input.database) ? serverDatabase(input.database) : resolve(input.database)
  for (const [what, path] of [
    ...(input.nodes ?? []).map((node) => ['node name', node] as const),
    ['database path', database],
    ['sbq path', input.sbqPath],
    ['node path', process.execPath],
  ] as const) {
    if (/[\n\r]/.test(path))
      throw invalidInput(
        'PATH_UNSCHEDULABLE',
        `${what} ${JSON.stringify(path)} has a line break, which a schedule cannot hold`,
        'rename it to a path without line breaks',
      )
  }
  return database
}

/**
 * A PostgreSQL URL goes into the schedule as it is, but never with a password: unit files and /etc/cron.d are
 * readable by every user of the machine.
 */
function serverDatabase(url: string): string {
  let password = ''
  try {
    password = new URL(url).password
  } catch {
    // Not a URL sbq could open either; the schedule's check will say so.
  }
  if (password !== '')
    throw invalidInput(
      'SCHEDULE_PASSWORD_IN_URL',
      'database URL has a password, which a unit file or crontab would show to every user of this machine',
      'leave it out of --db and put it in ~/.pgpass (mode 0600) of the user the schedule runs as; see docs/fleets.md',
    )
  return url
}

export function cronSchedule(input: Pick<ScheduleInput, 'every' | 'sbqPath' | 'database' | 'nodes'>): ScheduleResult {
  const database = scheduledDatabase(input)
  const line = crontabLine(
    parseInterval(input.every),
    `SBQ_DB=${quote(database)} ${checkCommand(input)}`,
    userInfo().username,
  )
  return {method: 'cron', files: [], enabled: false, crontab: line}
}

export function installSchedule(input: ScheduleInput): ScheduleResult {
  const database = scheduledDatabase(input)
  const units = systemdUnits(parseInterval(input.every), checkCommand(input), {SBQ_DB: database})
  mkdirSync(input.unitDir, {recursive: true})
  const files = [join(input.unitDir, `${unitName}.service`), join(input.unitDir, `${unitName}.timer`)]
  writeFileSync(files[0]!, units.service, {mode: 0o644})
  writeFileSync(files[1]!, units.timer, {mode: 0o644})
  if (input.enable) {
    systemctl('daemon-reload')
    systemctl('enable', '--now', `${unitName}.timer`)
  }
  return {method: 'systemd', files, enabled: input.enable, crontab: null}
}

/** `sbq serve --check-every` as one service: receiving, metrics and the check, with no timer or cron. */
export function installServe(input: ScheduleInput & {listen: string; passwd?: string}): ScheduleResult {
  const database = scheduledDatabase(input)
  const every = parseInterval(input.every)
  parseListen(input.listen)
  const command = `${quote(process.execPath)} ${quote(input.sbqPath)} serve --listen ${quote(input.listen)} --check-every ${every.text}`
  const user = accountExists(serviceUser, input.passwd ?? '/etc/passwd') ? serviceUser : null
  mkdirSync(input.unitDir, {recursive: true})
  const file = join(input.unitDir, `${serveUnitName}.service`)
  writeFileSync(file, serveUnit(command, {SBQ_DB: database}, user), {mode: 0o644})
  if (input.enable) {
    systemctl('daemon-reload')
    systemctl('enable', '--now', `${serveUnitName}.service`)
  }
  return {method: 'systemd', files: [file], enabled: input.enable, crontab: null}
}

function accountExists(name: string, passwd: string): boolean {
  try {
    return readFileSync(passwd, 'utf8')
      .split('\n')
      .some((line) => line.startsWith(`${name}:`))
  } catch {
    return false
  }
}

export function removeSchedule(input: Pick<ScheduleInput, 'unitDir' | 'enable'>): {removed: string[]} {
  if (input.enable && existsSync(join(input.unitDir, `${unitName}.timer`)))
    systemctl('disable', '--now', `${unitName}.timer`)
  if (input.enable && existsSync(join(input.unitDir, `${serveUnitName}.service`)))
    systemctl('disable', '--now', `${serveUnitName}.service`)
  const removed = [`${unitName}.service`, `${unitName}.timer`, `${serveUnitName}.service`]
    .map((file) => join(input.unitDir, file))
    .filter((path) => existsSync(path))
  for (const path of removed) rmSync(path)
  if (input.enable && removed.length > 0) systemctl('daemon-reload')
  return {removed}
}

function systemctl(...args: string[]): void {
  if (findOnPath('systemctl') === null) {
    throw unreachable(
      'NO_SYSTEMD',
      'systemctl is not on this machine',
      'use --cron for a crontab line, or --no-enable to only write the unit files',
    )
  }
  const result = spawnSync('systemctl', args, {encoding: 'utf8', timeout: 30_000})
  if (result.status !== 0) {
    const reason = (result.stderr || result.error?.message || '').trim().split('\n')[0]
    throw unreachable(
      'SYSTEMCTL_FAILED',
      `"systemctl ${args.join(' ')}" failed: ${reason}`,
      'run it by hand to see why (sbq schedule install needs root)',
    )
  }
}
