/** What `--every` and `--listen` say, as `sbq schedule` and `sbq serve` both read them. */
import {invalidInput} from '../errors.js'

export interface Interval {
  seconds: number
  text: string
}

/** `--every`: 30s, 1m, 5m, 1h… (at least 10 s: a check every few seconds would only fight itself for the lock). */
export function parseInterval(text: string): Interval {
  const match = /^(\d+)(s|m|h)$/.exec(text.trim())
  const seconds = match ? Number(match[1]) * {s: 1, m: 60, h: 3600}[match[2] as 's' | 'm' | 'h'] : Number.NaN
  if (!(seconds >= 10 && seconds <= 86_400)) {
    throw invalidInput(
      'INVALID_INTERVAL',
      `interval "${text}" is not one sbq can schedule`,
      'give 10s to 24h, like 30s, 1m, 5m or 1h',
    )
  }
  return {seconds, text: text.trim()}
}

/** `--listen`: HOST:PORT, with an IPv6 host in brackets. */
export function parseListen(text: string): {host: string; port: number} {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim())
  const port = match ? Number(match[3]) : Number.NaN
  if (!match || port > 65_535)
    throw invalidInput(
      'INVALID_LISTEN',
      `listen address "${text}" is not HOST:PORT`,
      'give it like 127.0.0.1:8787, or [::1]:8787',
    )
  return {host: match[1] ?? match[2]!, port}
}
