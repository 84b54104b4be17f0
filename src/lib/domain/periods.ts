import type {ResetRule} from './reset-rules.js'
import {addMonths, daysInMonth, fromLocal, toLocal, type LocalDate} from './zoned-time.js'

/**
 * A user's periods follow their reset rule (reset-rules.ts) in the install's time zone. Calendar rules start at local
 * midnight on their day; a day past the month's end means the month's last day (31 in April is April 30, February 29
 * is February 28 outside leap years). Everything here is pure: the instant `now` and the zone come in as arguments.
 */
export interface Period {
  /** Inclusive, epoch ms. */
  start: number
  /** Exclusive, epoch ms; `noEnd` for a rule that never resets. */
  end: number
}

/** The end of a period that never ends: the largest instant a Date can hold, exact in a double and in a bigint column. */
export const noEnd = 8_640_000_000_000_000

export function endsNever(period: Pick<Period, 'end'>): boolean {
  return period.end >= noEnd
}

const dayMs = 86_400_000

function addDays(date: LocalDate, days: number): LocalDate {
  const shifted = new Date(Date.UTC(date.year, date.month - 1, date.day + days))
  return {year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate()}
}

/** 1 is Monday. */
function isoWeekday(date: LocalDate): number {
  return ((new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7) + 1
}

function compareDates(a: LocalDate, b: LocalDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day
}

function clampedDay(year: number, month: number, day: number): LocalDate {
  return {year, month, day: Math.min(day, daysInMonth(year, month))}
}

type CalendarRule = Exclude<ResetRule, {every: 'rolling'} | {every: 'never'}>

/** The rule's boundary date on or before `date` (calendar rules only). */
function boundaryOnOrBefore(rule: CalendarRule, date: LocalDate): LocalDate {
  switch (rule.every) {
    case 'day':
      return date
    case 'week':
      return addDays(date, -((isoWeekday(date) - rule.weekday + 7) % 7))
    case 'month': {
      const inMonth = clampedDay(date.year, date.month, rule.day)
      if (compareDates(inMonth, date) <= 0) return inMonth
      const previous = addMonths(date.year, date.month, -1)
      return clampedDay(previous.year, previous.month, rule.day)
    }
    case 'year': {
      const inYear = clampedDay(date.year, rule.month, rule.day)
      return compareDates(inYear, date) <= 0 ? inYear : clampedDay(date.year - 1, rule.month, rule.day)
    }
  }
}

/** The rule's first boundary date strictly after a boundary date (calendar rules only). */
function boundaryAfter(rule: CalendarRule, boundary: LocalDate): LocalDate {
  switch (rule.every) {
    case 'day':
      return addDays(boundary, 1)
    case 'week':
      return addDays(boundary, 7)
    case 'month': {
      const next = addMonths(boundary.year, boundary.month, 1)
      return clampedDay(next.year, next.month, rule.day)
    }
    case 'year':
      return clampedDay(boundary.year + 1, rule.month, rule.day)
  }
}

function localDate(instant: number, timeZone: string): LocalDate {
  const {year, month, day} = toLocal(instant, timeZone)
  return {year, month, day}
}

/** Local midnight `days` days after the local day of `instant`. */
function midnightDaysAfter(instant: number, days: number, timeZone: string): number {
  return fromLocal(addDays(localDate(instant, timeZone), days), timeZone)
}

/**
 * Pulls and checks ask this for every user, and nearly all of them share a period start and a rule: the answers are
 * kept (pure function, bounded cache).
 */
const boundaryCache = new Map<string, number>()

function cached(key: string, compute: () => number): number {
  let value = boundaryCache.get(key)
  if (value === undefined) {
    value = compute()
    if (boundaryCache.size > 10_000) boundaryCache.clear()
    boundaryCache.set(key, value)
  }
  return value
}

function ruleKey(rule: ResetRule): string {
  switch (rule.every) {
    case 'month':
      return `m${rule.day}`
    case 'week':
      return `w${rule.weekday}`
    case 'year':
      return `y${rule.month}-${rule.day}`
    case 'rolling':
      return `r${rule.days}`
    default:
      return rule.every
  }
}

function calendarBoundaryAfter(instant: number, rule: CalendarRule, timeZone: string): number {
  let date = boundaryOnOrBefore(rule, localDate(instant, timeZone))
  for (;;) {
    const boundary = fromLocal(date, timeZone)
    if (boundary > instant) return boundary
    date = boundaryAfter(rule, date)
  }
}

/**
 * The end of a period that starts at `start`: a calendar rule's first boundary after it, local midnight `days` days
 * after its day for a rolling rule, never for `never`.
 */
export function periodEndFrom(start: number, rule: ResetRule, timeZone: string): number {
  switch (rule.every) {
    case 'never':
      return noEnd
    case 'rolling':
      return cached(`${start} ${ruleKey(rule)} ${timeZone}`, () => midnightDaysAfter(start, rule.days, timeZone))
    default:
      return cached(`${start} ${ruleKey(rule)} ${timeZone}`, () => calendarBoundaryAfter(start, rule, timeZone))
  }
}

/**
 * The period containing `now` for a user with no period yet (or one that cannot be continued): a calendar rule's
 * period around `now`; for rolling and never rules, one starting at local midnight today.
 */
export function periodAt(now: number, rule: ResetRule, timeZone: string): Period {
  if (rule.every === 'rolling' || rule.every === 'never') {
    const start = midnightDaysAfter(now, 0, timeZone)
    return {start, end: periodEndFrom(start, rule, timeZone)}
  }
  let date = boundaryOnOrBefore(rule, localDate(now, timeZone))
  let start = fromLocal(date, timeZone)
  // A boundary that is the end of a DST gap can lie after `now` on its own day: the period began at the one before.
  while (start > now) {
    date = boundaryOnOrBefore(rule, addDays(date, -1))
    start = fromLocal(date, timeZone)
  }
  return {start, end: periodEndFrom(start, rule, timeZone)}
}

/** Rolling periods after a long idle stretch: skip whole periods by arithmetic instead of walking one by one. */
function rollingPeriodFrom(from: number, now: number, days: number, timeZone: string): Period {
  const fromDate = localDate(from, timeZone)
  const nowDate = localDate(now, timeZone)
  const elapsedDays = Math.round(
    (Date.UTC(nowDate.year, nowDate.month - 1, nowDate.day) -
      Date.UTC(fromDate.year, fromDate.month - 1, fromDate.day)) /
      dayMs,
  )
  let start = Math.max(from, fromLocal(addDays(fromDate, Math.floor(elapsedDays / days) * days), timeZone))
  if (start > now)
    start = Math.max(from, fromLocal(addDays(fromDate, (Math.floor(elapsedDays / days) - 1) * days), timeZone))
  return {start, end: midnightDaysAfter(start, days, timeZone)}
}

/**
 * The period in force at `now`, given the one stored for the user (null before the first). The stored period holds
 * until its end; the next one starts there and runs to the rule's following boundary, so a period that ran out during
 * idle time is replaced by the one that contains `now` (for a rolling rule, still counted in whole periods from the
 * stored one).
 */
export function currentPeriod(stored: Period | null, now: number, rule: ResetRule, timeZone: string): Period {
  if (stored !== null && stored.start <= now) {
    if (now < stored.end) return stored
    const next = {start: stored.end, end: periodEndFrom(stored.end, rule, timeZone)}
    if (now < next.end) return next
    if (rule.every === 'rolling') return rollingPeriodFrom(next.end, now, rule.days, timeZone)
  }
  return periodAt(now, rule, timeZone)
}

/**
 * The running period after the reset rule changed to `rule`: it keeps its start, so nothing counted or topped up in
 * it is lost, and ends at the new rule's next boundary after `now` (a rolling rule counts its days from the running
 * period's start), so the next reset falls where the new rule says.
 */
export function periodWithNewRule(running: Period, now: number, rule: ResetRule, timeZone: string): Period {
  switch (rule.every) {
    case 'never':
      return {start: running.start, end: noEnd}
    case 'rolling': {
      const end = rollingPeriodFrom(running.start, now, rule.days, timeZone).end
      return {start: running.start, end}
    }
    default:
      return {start: running.start, end: calendarBoundaryAfter(now, rule, timeZone)}
  }
}
