import {invalidInput} from '../errors.js'
import {parseExpiry} from '../time/expiry.js'
import {parseSize} from './size.js'

/** The limit flags shared by `user add`, `quota set` and `plan add/set`, as the operator typed them. */
export interface LimitFlagText {
  monthly?: string
  total?: string
  'reset-day'?: string
  'max-ips'?: string
  expires?: string
}

export interface ParsedLimits {
  monthlyQuota?: number
  totalQuota?: number
  resetDay?: number
  maxIps?: number
  expiresAt?: number | null
}

export function parseWholeNumber(text: string, flag: string, min: number, max: number, hint: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN
  if (!(value >= min && value <= max)) {
    throw invalidInput('INVALID_NUMBER', `${flag} "${text}" is not a whole number from ${min} to ${max}`, hint)
  }
  return value
}

export function parseLimitFlags(flags: LimitFlagText, clock: {now: number; timeZone: string}): ParsedLimits {
  const limits: ParsedLimits = {}
  if (flags.monthly !== undefined) limits.monthlyQuota = parseSize(flags.monthly, '--monthly')
  if (flags.total !== undefined) limits.totalQuota = parseSize(flags.total, '--total')
  if (flags['reset-day'] !== undefined) {
    limits.resetDay = parseWholeNumber(flags['reset-day'], '--reset-day', 1, 31, 'give the day of the month the period starts on; 31 means the last day')
  }
  if (flags['max-ips'] !== undefined) {
    limits.maxIps = parseWholeNumber(flags['max-ips'], '--max-ips', 1, 10_000, 'give how many distinct IPs may use the account at once')
  }
  if (flags.expires !== undefined) limits.expiresAt = parseExpiry(flags.expires, clock.now, clock.timeZone)
  return limits
}
