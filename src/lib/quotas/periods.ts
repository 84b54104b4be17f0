import {addMonths, daysInMonth, fromLocal, toLocal} from '../time/zoned-time.js'

/**
 * Billing periods are calendar months that start at local midnight on the user's reset day, in the install's time
 * zone. A reset day past the month's end means the month's last day (31 in April is April 30).
 * Everything here is pure: the instant `now` and the zone come in as arguments.
 */
export interface Period {
  /** Inclusive, epoch ms. */
  start: number
  /** Exclusive, epoch ms. */
  end: number
}

function boundaryIn(year: number, month: number, resetDay: number, timeZone: string): number {
  return fromLocal({year, month, day: Math.min(resetDay, daysInMonth(year, month))}, timeZone)
}

/**
 * Pulls and checks ask this for every user, and nearly all of them share a period start and a reset day: the answers
 * are kept (pure function, bounded cache).
 */
const boundaryCache = new Map<string, number>()

/** The first period boundary strictly after `instant`. */
export function nextBoundaryAfter(instant: number, resetDay: number, timeZone: string): number {
  const key = `${instant} ${resetDay} ${timeZone}`
  let boundary = boundaryCache.get(key)
  if (boundary === undefined) {
    boundary = computeNextBoundary(instant, resetDay, timeZone)
    if (boundaryCache.size > 10_000) boundaryCache.clear()
    boundaryCache.set(key, boundary)
  }
  return boundary
}

function computeNextBoundary(instant: number, resetDay: number, timeZone: string): number {
  const local = toLocal(instant, timeZone)
  for (let delta = 0; ; delta++) {
    const {year, month} = addMonths(local.year, local.month, delta)
    const boundary = boundaryIn(year, month, resetDay, timeZone)
    if (boundary > instant) return boundary
  }
}

/** The period containing `now` for a user whose reset day has never changed. */
export function periodAt(now: number, resetDay: number, timeZone: string): Period {
  const local = toLocal(now, timeZone)
  for (let delta = 0; ; delta--) {
    const {year, month} = addMonths(local.year, local.month, delta)
    const start = boundaryIn(year, month, resetDay, timeZone)
    if (start <= now) return {start, end: nextBoundaryAfter(start, resetDay, timeZone)}
  }
}

/**
 * The period in force at `now`, given when the current one started (null before the first).
 * A period that already started keeps its start when the reset day changes and ends at the next boundary under the
 * new reset day, so changing the day mid-period neither restarts the count nor pulls in the previous period.
 */
export function currentPeriod(startedAt: number | null, now: number, resetDay: number, timeZone: string): Period {
  if (startedAt !== null && startedAt <= now) {
    const end = nextBoundaryAfter(startedAt, resetDay, timeZone)
    if (now < end) return {start: startedAt, end}
  }
  return periodAt(now, resetDay, timeZone)
}
