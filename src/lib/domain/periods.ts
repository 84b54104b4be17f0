import {addMonths, daysInMonth, fromLocal, toLocal} from './zoned-time.js'

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
 * The period in force at `now`, given the one stored for the user (null before the first). The stored period holds
 * until its end; the next one starts there and runs to the following boundary under the reset day in force, so a
 * period that ran out during idle months is replaced by the one that contains `now`.
 */
export function currentPeriod(stored: Period | null, now: number, resetDay: number, timeZone: string): Period {
  if (stored !== null && stored.start <= now) {
    if (now < stored.end) return stored
    const next = {start: stored.end, end: nextBoundaryAfter(stored.end, resetDay, timeZone)}
    if (now < next.end) return next
  }
  return periodAt(now, resetDay, timeZone)
}

/**
 * The running period after the reset day changed to `resetDay`: it keeps its start, so nothing counted or topped up
 * in it is lost, and ends at the new day's next boundary after `now`, so the next reset falls on the new day.
 */
export function periodWithNewResetDay(running: Period, now: number, resetDay: number, timeZone: string): Period {
  return {start: running.start, end: nextBoundaryAfter(now, resetDay, timeZone)}
}
