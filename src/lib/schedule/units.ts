import {invalidInput} from '../errors.js'
import type {Interval} from '../domain/schedule-input.js'

/**
 * A line for /etc/cron.d (which names the user to run as); cron counts whole minutes and hours only. cron turns a
 * bare % in the command into a line break, so each is escaped.
 */
export function crontabLine(interval: Interval, command: string, user: string): string {
  const {seconds} = interval
  let schedule: string
  if (seconds % 3600 === 0 && seconds / 3600 <= 24 && 24 % (seconds / 3600) === 0)
    schedule = seconds === 3600 ? '0 * * * *' : `0 */${seconds / 3600} * * *`
  else if (seconds % 60 === 0 && 60 % (seconds / 60) === 0)
    schedule = seconds === 60 ? '* * * * *' : `*/${seconds / 60} * * * *`
  else
    throw invalidInput(
      'INVALID_INTERVAL',
      `interval "${interval.text}" cannot be said in cron`,
      'use a divisor of an hour or a day (1m, 5m, 15m, 1h), or the systemd timer',
    )
  return `${schedule} ${user} ${command.replaceAll('%', '\\%')}`
}

export interface Units {
  service: string
  timer: string
}

/** A oneshot service run by a timer: systemd never starts a second run while one is still going. */
export function systemdUnits(interval: Interval, execStart: string, environment: Record<string, string>): Units {
  const env = environmentLines(environment)
  const service = [
    '[Unit]',
    'Description=sbq quota check: pull proxy counters and enforce quotas',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    ...env,
    `ExecStart=${withoutSpecifiers(execStart)}`,
    'Nice=5',
    '',
  ].join('\n')
  const timer = [
    '[Unit]',
    `Description=Run sbq check every ${interval.text}`,
    '',
    '[Timer]',
    'OnBootSec=1min',
    `OnUnitActiveSec=${interval.seconds}s`,
    'AccuracySec=1s',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n')
  return {service, timer}
}

/**
 * `sbq serve` as a long-running service: restarted when it fails, stopped with SIGTERM (it finishes what is in
 * flight), and run as `User=sbq` when that account exists, so a bug in the HTTP server does not run as root.
 */
export function serveUnit(execStart: string, environment: Record<string, string>, user: string | null): string {
  const env = environmentLines(environment)
  return [
    '[Unit]',
    'Description=sbq serve: receive 3x-ui traffic reports, serve /metrics, run the quota check',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    ...(user === null ? [] : [`User=${user}`]),
    ...env,
    `ExecStart=${withoutSpecifiers(execStart)}`,
    'Restart=on-failure',
    'RestartSec=5s',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=90s',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n')
}

/** Quoted, so a path with spaces stays one assignment (systemd splits Environment= on whitespace). */
function environmentLines(environment: Record<string, string>): string[] {
  return Object.entries(environment).map(
    ([key, value]) =>
      `Environment="${key}=${withoutSpecifiers(value.replaceAll('\\', '\\\\').replaceAll('"', '\\"'))}"`,
  )
}

/** systemd reads %x in ExecStart= and Environment= as a specifier (%h: the home directory); %% is a literal %. */
function withoutSpecifiers(text: string): string {
  return text.replaceAll('%', '%%')
}
