import {readlinkSync} from 'node:fs'

import {isValidTimeZone} from '../domain/zoned-time.js'

/**
 * The machine's zone: $TZ, else the /etc/localtime link, else what Intl says. Asking Intl first would load ICU's
 * locale data on every start (~15 ms), and most servers run in UTC, where no zone lookup is needed at all.
 */
export function systemTimeZone(): string {
  const fromEnv = process.env.TZ?.replace(/^:/, '')
  if (fromEnv && isValidTimeZone(fromEnv)) return fromEnv
  try {
    const zone = /zoneinfo\/(.+)$/.exec(readlinkSync('/etc/localtime'))?.[1]
    if (zone && isValidTimeZone(zone)) return zone
  } catch {
    // Not a link (or no such file): fall through to Intl.
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}
