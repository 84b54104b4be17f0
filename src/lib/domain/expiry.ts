import {invalidInput} from '../errors.js'
import {addMonths, daysInMonth, fromLocal, toLocal} from './zoned-time.js'

const hour = 3_600_000
const durationUnits: Record<string, number> = {h: hour, d: 24 * hour, w: 7 * 24 * hour}

/**
 * The latest expiry sbq stores: the last instant of the year 9999 in UTC. Every date sbq shows has four-digit years,
 * and far beyond it JavaScript has no date at all (a user stored so breaks every list, the dashboard and /metrics).
 */
export const latestExpiry = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/**
 * `--expires` takes a local date (`2025-06-30`: expiry at that day's start), a local date-time
 * (`2025-06-30T18:00`), an ISO instant with zone (`...Z` / `+02:00`), a duration from now (`12h`, `30d`, `4w`, `1mo`,
 * `1y`) or `never` (null), up to `latestExpiry`.
 */
export function parseExpiry(text: string, now: number, timeZone: string): number | null {
  const expiry = parseExpiryText(text, now, timeZone)
  // Also catches what no calendar reaches (NaN from a month count past any year).
  if (expiry !== null && !(expiry <= latestExpiry)) {
    throw invalidInput(
      'EXPIRY_OUT_OF_RANGE',
      `expiry "${text}" is after 9999-12-31`,
      'give an earlier date or a shorter duration, or never for no expiry',
    )
  }
  return expiry
}

function parseExpiryText(text: string, now: number, timeZone: string): number | null {
  const value = text.trim()
  if (/^never$/i.test(value)) return null

  const duration = /^(\d+)(h|d|w|mo|y)$/i.exec(value)
  if (duration) {
    const amount = Number(duration[1])
    const unit = duration[2]!.toLowerCase()
    if (unit === 'mo' || unit === 'y') return addCalendarMonths(now, unit === 'y' ? amount * 12 : amount, timeZone)
    return now + amount * durationUnits[unit]!
  }

  const local = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value)
  if (local) {
    const [year, month, day, hourOfDay = 0, minute = 0, second = 0] = local
      .slice(1)
      .map((part) => (part === undefined ? undefined : Number(part)))
    if (
      month! >= 1 &&
      month! <= 12 &&
      day! >= 1 &&
      day! <= daysInMonth(year!, month!) &&
      hourOfDay <= 23 &&
      minute <= 59 &&
      second <= 59
    ) {
      return fromLocal({year: year!, month: month!, day: day!, hour: hourOfDay, minute, second}, timeZone)
    }
  } else if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const instant = Date.parse(value)
    if (!Number.isNaN(instant)) return instant
  }

  throw invalidInput(
    'INVALID_EXPIRY',
    `expiry "${text}" is not a date or duration`,
    'use a date like 2025-06-30, a duration like 30d, 12h, 4w, 1mo or 1y, or never',
  )
}

function addCalendarMonths(now: number, months: number, timeZone: string): number {
  const local = toLocal(now, timeZone)
  const {year, month} = addMonths(local.year, local.month, months)
  return fromLocal({...local, year, month, day: Math.min(local.day, daysInMonth(year, month))}, timeZone)
}

const durationPattern = /^(\d+)(h|d|w|mo|y)$/i

/** An expiry that starts on the user's first counted byte, or at `firstUseBy` if they have not used any by then. */
export interface FirstUseExpiry {
  /** The duration as typed (`30d`, `1mo`): months are calendar months from the day the clock starts. */
  expiresAfter: string
  firstUseBy: number | null
}

/**
 * `--expires 30d --from first-use [--first-use-by 2025-07-01|14d]`. Only a duration can start later; the deadline
 * takes what `--expires` takes, from now.
 */
export function parseFirstUseExpiry(
  expires: string | undefined,
  firstUseBy: string | undefined,
  now: number,
  timeZone: string,
): FirstUseExpiry {
  const duration = expires?.trim()
  if (duration === undefined || !durationPattern.test(duration)) {
    throw invalidInput(
      'INVALID_EXPIRY',
      `--from first-use needs --expires as a duration, not ${duration === undefined ? 'nothing' : `"${duration}"`}`,
      'give a duration the clock runs from first use, like --expires 30d --from first-use (or 1mo, 12h, 4w, 1y)',
    )
  }
  parseExpiry(duration, now, timeZone)
  const deadline = firstUseBy === undefined ? null : parseExpiry(firstUseBy, now, timeZone)
  if (firstUseBy !== undefined && (deadline === null || deadline <= now)) {
    throw invalidInput(
      'INVALID_EXPIRY',
      `--first-use-by "${firstUseBy}" is not a time after now`,
      'give when the clock starts for a user who has not connected by then, like 14d or 2025-07-01',
    )
  }
  return {expiresAfter: duration.toLowerCase(), firstUseBy: deadline}
}

/** When a first-use expiry runs out, its clock started at `startedAt` (the first byte, or the deadline if earlier). */
export function expiryFromFirstUse(pending: FirstUseExpiry, firstUseAt: number, timeZone: string): number {
  const startedAt = pending.firstUseBy !== null && pending.firstUseBy < firstUseAt ? pending.firstUseBy : firstUseAt
  return parseExpiry(pending.expiresAfter, startedAt, timeZone) ?? latestExpiry
}

/**
 * The expiry in force at `now`: the stored one, else a first-use clock whose deadline has passed (the check stores it
 * on its next run); null while a first-use clock waits, or for no expiry.
 */
export function effectiveExpiry(
  user: {expires_at: number | null; expires_after?: string | null; first_use_by?: number | null},
  now: number,
  timeZone: string,
): number | null {
  if (user.expires_at !== null || user.expires_after == null) return user.expires_at
  const firstUseBy = user.first_use_by ?? null
  if (firstUseBy === null || now < firstUseBy) return null
  return expiryFromFirstUse({expiresAfter: user.expires_after, firstUseBy}, firstUseBy, timeZone)
}

/** `--valid` of a traffic package: what `--expires` takes (never: the latest expiry sbq stores), after now. */
export function packageValidUntil(text: string, now: number, timeZone: string): number {
  const until = parseExpiry(text, now, timeZone) ?? latestExpiry
  if (until <= now) {
    throw invalidInput(
      'INVALID_EXPIRY',
      `--valid "${text}" is not a time after now`,
      'give how long the package lasts (90d, 1y) or a later date, or never',
    )
  }
  return until
}
