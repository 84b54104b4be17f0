import {invalidInput} from '../errors.js'
import {parseExpiry, parseFirstUseExpiry, type FirstUseExpiry} from './expiry.js'
import {parseResetRule, type ResetRule} from './reset-rules.js'
import {parseSize} from './size.js'

/** The limit flags shared by `user add`, `quota set` and `plan add/set`, as the operator typed them. */
export interface LimitFlagText {
  monthly?: string
  total?: string
  'reset-day'?: string
  reset?: string
  'max-ips'?: string
  expires?: string
  /** `now` (the default) or `first-use`: when an --expires duration starts. */
  from?: string
  'first-use-by'?: string
}

export interface ParsedLimits {
  monthlyQuota?: number
  totalQuota?: number
  reset?: ResetRule
  maxIps?: number
  expiresAt?: number | null
  /** Set with --from first-use: expiresAt is then null until the user's first byte. */
  firstUse?: FirstUseExpiry
}

export function parseWholeNumber(text: string, flag: string, min: number, max: number, hint: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN
  if (!(value >= min && value <= max)) {
    throw invalidInput('INVALID_NUMBER', `${flag} "${text}" is not a whole number from ${min} to ${max}`, hint)
  }
  return value
}

/** `label` names a field in error messages: the flag for the CLI (`--monthly`), a form field's name on the web. */
export function parseLimitFlags(
  flags: LimitFlagText,
  clock: {now: number; timeZone: string},
  label: (flag: keyof LimitFlagText) => string = (flag) => `--${flag}`,
): ParsedLimits {
  const limits: ParsedLimits = {}
  if (flags.monthly !== undefined) limits.monthlyQuota = parseSize(flags.monthly, label('monthly'))
  if (flags.total !== undefined) limits.totalQuota = parseSize(flags.total, label('total'))
  if (flags['reset-day'] !== undefined && flags.reset !== undefined) {
    throw invalidInput(
      'INVALID_RESET',
      `${label('reset-day')} "${flags['reset-day']}" and ${label('reset')} "${flags.reset}" both say when the period resets`,
      `give one: ${label('reset')} monthly:${flags['reset-day']} is the same as ${label('reset-day')} ${flags['reset-day']}`,
    )
  }
  if (flags['reset-day'] !== undefined) {
    limits.reset = {
      every: 'month',
      day: parseWholeNumber(
        flags['reset-day'],
        label('reset-day'),
        1,
        31,
        'give the day of the month the period starts on; 31 means the last day',
      ),
    }
  }
  if (flags.reset !== undefined) limits.reset = parseResetRule(flags.reset, label('reset'))
  if (flags['max-ips'] !== undefined) {
    limits.maxIps = parseWholeNumber(
      flags['max-ips'],
      label('max-ips'),
      1,
      10_000,
      'give how many distinct IPs may use the account at once',
    )
  }
  const from = flags.from?.trim().toLowerCase()
  if (from !== undefined && from !== 'now' && from !== 'first-use') {
    throw invalidInput(
      'INVALID_EXPIRY',
      `${label('from')} "${flags.from}" is not when an expiry starts`,
      'give now (the default) or first-use',
    )
  }
  if (from === 'first-use') {
    limits.firstUse = parseFirstUseExpiry(flags.expires, flags['first-use-by'], clock.now, clock.timeZone)
    limits.expiresAt = null
  } else if (flags['first-use-by'] !== undefined) {
    throw invalidInput(
      'INVALID_EXPIRY',
      `${label('first-use-by')} "${flags['first-use-by']}" is a deadline for --from first-use, which was not given`,
      `give both: --expires 30d --from first-use ${label('first-use-by')} ${flags['first-use-by']}`,
    )
  } else if (flags.expires !== undefined) limits.expiresAt = parseExpiry(flags.expires, clock.now, clock.timeZone)
  return limits
}
