import {invalidInput} from '../errors.js'
import {addMonths, formatLocalDate, fromLocal, toLocal, type LocalDate} from './zoned-time.js'

/** A calendar month in the install's time zone, and the `day` keys of its daily usage rows. */
export interface MonthRange {
  /** `YYYY-MM`, how monthly rollup rows are keyed. */
  month: string
  year: number
  /** 1-12. */
  monthNumber: number
  /** `YYYY-MM-01`, inclusive. */
  firstDay: string
  /** The next month's `YYYY-MM-01`, exclusive: daily rows of the month are `firstDay <= day < endDay`. */
  endDay: string
  /** Local midnight of the first day, epoch ms. */
  start: number
  /** Local midnight of the next month's first day, epoch ms. */
  end: number
}

export function monthKey(year: number, month: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`
}

export function monthRange(year: number, month: number, timeZone: string): MonthRange {
  const next = addMonths(year, month, 1)
  return {
    month: monthKey(year, month),
    year,
    monthNumber: month,
    firstDay: `${monthKey(year, month)}-01`,
    endDay: `${monthKey(next.year, next.month)}-01`,
    start: fromLocal({year, month, day: 1}, timeZone),
    end: fromLocal({year: next.year, month: next.month, day: 1}, timeZone),
  }
}

/** The month `now` falls in, in the given zone. */
export function currentMonth(now: number, timeZone: string): MonthRange {
  const local = toLocal(now, timeZone)
  return monthRange(local.year, local.month, timeZone)
}

/** Parses `--month YYYY-MM`; anything else (`2024-13`, `yesterday`, `2024-5`) is one clear error. */
export function parseMonth(text: string, timeZone: string): MonthRange {
  const match = /^(\d{4})-(\d{2})$/.exec(text.trim())
  const month = match ? Number(match[2]) : 0
  if (!match || month < 1 || month > 12) {
    throw invalidInput('INVALID_MONTH', `month "${text}" is not a calendar month`, 'give it as YYYY-MM, like 2024-05')
  }
  return monthRange(Number(match[1]), month, timeZone)
}

/** Parses `--before YYYY-MM-DD` into a local date, refusing impossible dates like 2024-02-30. */
export function parseDay(text: string, what: string): LocalDate {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim())
  const date = match ? {year: Number(match[1]), month: Number(match[2]), day: Number(match[3])} : undefined
  if (!date || formatLocalDate(fromUtcDay(date)) !== text.trim()) {
    throw invalidInput('INVALID_DATE', `${what} "${text}" is not a date`, 'give it as YYYY-MM-DD, like 2024-05-01')
  }
  return date
}

/** The local date `days` days before the given one (calendar arithmetic, so DST changes do not matter). */
export function daysBefore(date: LocalDate, days: number): LocalDate {
  return fromUtcDay({...date, day: date.day - days})
}

function fromUtcDay(date: LocalDate): LocalDate {
  const normalised = new Date(Date.UTC(date.year, date.month - 1, date.day))
  return {year: normalised.getUTCFullYear(), month: normalised.getUTCMonth() + 1, day: normalised.getUTCDate()}
}
