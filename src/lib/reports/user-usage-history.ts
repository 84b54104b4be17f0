import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {dailyUsageOf} from '../db/reports-repository.js'
import {formatLocalDate, toLocal} from '../domain/zoned-time.js'
import {daysBefore} from '../domain/month-range.js'
import {billedUsage} from '../domain/usage-arithmetic.js'
import type {DayRow} from './usage-report.js'

/** One user's traffic per local day for the last `days` days up to today, oldest first, days without traffic as 0. */
export async function dailySeries(
  db: Db,
  name: string,
  days: number,
  context: Pick<Context, 'now' | 'timeZone'>,
): Promise<DayRow[]> {
  const today = toLocal(context.now, context.timeZone)
  const keys = Array.from({length: days}, (_, index) => formatLocalDate(daysBefore(today, days - 1 - index)))
  if (keys.length === 0) return []
  const rows = await dailyUsageOf(db, name, keys[0]!, formatLocalDate(daysBefore(today, -1)))
  const byDay = new Map(rows.map((row) => [row.day, row]))
  return keys.map((day) => ({day, ...billedUsage(byDay.get(day) ?? {up: 0, down: 0, raw_up: 0, raw_down: 0})}))
}

/** Whole local days from one instant's day to another's (calendar arithmetic: DST days count as one). */
function localDaysBetween(from: number, to: number, timeZone: string): number {
  const a = toLocal(from, timeZone)
  const b = toLocal(to, timeZone)
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000)
}

/** The current period's days so far (oldest first) and how many days the whole period has, for a period chart. */
export async function periodSeries(
  db: Db,
  user: {name: string; periodStart: string; periodEnd: string | null},
  context: Pick<Context, 'now' | 'timeZone'>,
): Promise<{days: DayRow[]; length: number}> {
  const periodStart = Date.parse(user.periodStart)
  const daysSoFar = Math.max(1, localDaysBetween(periodStart, context.now, context.timeZone) + 1)
  return {
    days: await dailySeries(db, user.name, daysSoFar, context),
    length:
      user.periodEnd === null
        ? daysSoFar
        : Math.max(daysSoFar, localDaysBetween(periodStart, Date.parse(user.periodEnd), context.timeZone)),
  }
}

export interface ForecastInput {
  periodUsed: number
  /** Monthly quota plus top-ups; 0 means unlimited. */
  allowance: number
  /** What the user used over the last 7 days: the pace the forecast assumes continues. */
  last7DaysBytes: number
  /** Epoch ms, exclusive. */
  periodEnd: number
  /** Epoch ms. */
  now: number
}

const week = 7 * 86_400_000

/**
 * When the allowance runs out at the last 7 days' pace, as an ISO instant; null when it does not run out this period
 * (unlimited, idle, or the pace reaches it only after the period ends). Already exhausted means now.
 */
export function forecastExhaustion(input: ForecastInput): string | null {
  if (input.allowance === 0) return null
  const remaining = input.allowance - input.periodUsed
  if (remaining <= 0) return new Date(input.now).toISOString()
  if (input.last7DaysBytes <= 0) return null
  const at = input.now + Math.ceil((remaining / input.last7DaysBytes) * week)
  return at < input.periodEnd ? new Date(at).toISOString() : null
}
