import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {foldMonth, oldestDailyDay} from '../db/reports-repository.js'
import {invalidInput} from '../errors.js'
import {addMonths, formatLocalDate, toLocal, type LocalDate} from '../domain/zoned-time.js'
import {daysBefore, monthKey, parseDay} from '../domain/month-range.js'

export interface PruneOptions {
  /** `YYYY-MM-DD`: fold and delete daily rows before this day (rounded down to its month's first day). */
  before?: string
  /** Keep this many days of daily rows (the cut-off is then rounded down to a month's first day). */
  keepDays?: number
}

export interface PruneResult {
  /** The cut-off asked for, `YYYY-MM-DD`. */
  requested: string
  /** The cut-off used: the first day of the requested cut-off's month; daily rows before it are now monthly totals. */
  cutoff: string
  /** The months folded, `YYYY-MM`, oldest first. */
  months: string[]
  dailyRowsDeleted: number
  monthlyRowsWritten: number
}

/**
 * Folds whole months of daily usage before the cut-off into monthly totals and deletes those daily rows, all in one
 * transaction, so every month reports the same totals afterwards. Only whole months fold: the cut-off is rounded down
 * to a month's first day. Running totals, events and top-ups are untouched (quota checks read the running totals).
 */
export async function pruneUsage(db: Db, options: PruneOptions, context: Context): Promise<PruneResult> {
  const today = toLocal(context.now, context.timeZone)
  const requested = requestedCutoff(options, today)
  if (requested.year * 12 + requested.month >= today.year * 12 + today.month) {
    throw invalidInput(
      'PRUNE_TOO_RECENT',
      `cut-off "${formatLocalDate(requested)}" is in the current month or later`,
      'only whole past months can be pruned: give an earlier --before, or a larger --keep-days',
    )
  }
  const cutoff = `${monthKey(requested.year, requested.month)}-01`
  return db.transaction().execute(async (trx) => {
    const result: PruneResult = {
      requested: formatLocalDate(requested),
      cutoff,
      months: [],
      dailyRowsDeleted: 0,
      monthlyRowsWritten: 0,
    }
    const oldest = await oldestDailyDay(trx)
    if (oldest === undefined || oldest >= cutoff) return result
    let month = {year: Number(oldest.slice(0, 4)), month: Number(oldest.slice(5, 7))}
    while (`${monthKey(month.year, month.month)}-01` < cutoff) {
      const next = addMonths(month.year, month.month, 1)
      const counts = await foldMonth(
        trx,
        monthKey(month.year, month.month),
        `${monthKey(month.year, month.month)}-01`,
        `${monthKey(next.year, next.month)}-01`,
      )
      if (counts.dailyRows > 0) result.months.push(monthKey(month.year, month.month))
      result.dailyRowsDeleted += counts.dailyRows
      result.monthlyRowsWritten += counts.monthlyRows
      month = next
    }
    return result
  })
}

function requestedCutoff(options: PruneOptions, today: LocalDate): LocalDate {
  if ((options.before === undefined) === (options.keepDays === undefined)) {
    throw invalidInput(
      'PRUNE_CUTOFF_MISSING',
      'prune needs exactly one of --before or --keep-days',
      'try: sbq prune --keep-days 400, or sbq prune --before 2024-01-01',
    )
  }
  if (options.before !== undefined) return parseDay(options.before, 'date')
  const keepDays = options.keepDays!
  if (!Number.isInteger(keepDays) || keepDays < 0) {
    throw invalidInput(
      'INVALID_KEEP_DAYS',
      `--keep-days "${keepDays}" is not a whole number of days`,
      'give 0 or more, like --keep-days 400',
    )
  }
  return daysBefore(today, keepDays)
}
