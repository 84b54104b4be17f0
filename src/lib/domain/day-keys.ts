/**
 * Calendar arithmetic on the ledger's day keys (`YYYY-MM-DD`, local dates as stored) and month keys (`YYYY-MM`).
 * Pure UTC date math: the keys are already local, so no time zone or DST enters here.
 */

/** The day key `days` days after (negative: before) the given one. */
export function shiftDay(day: string, days: number): string {
  const date = new Date(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)) + days))
  return date.toISOString().slice(0, 10)
}

export function monthOfDay(day: string): string {
  return day.slice(0, 7)
}

export function firstDayOfMonth(month: string): string {
  return `${month}-01`
}

/** The first day of the month after the given one. */
export function firstDayOfNextMonth(month: string): string {
  const year = Number(month.slice(0, 4))
  const next = Number(month.slice(5, 7)) + 1
  return next > 12 ? `${year + 1}-01-01` : `${year}-${String(next).padStart(2, '0')}-01`
}

/** Every day key with `fromDay <= day < toDay`, oldest first. */
export function dayKeys(fromDay: string, toDay: string): string[] {
  const keys: string[] = []
  for (let day = fromDay; day < toDay; day = shiftDay(day, 1)) keys.push(day)
  return keys
}

/** The months of `fromDay <= day < toDay` split at month edges: each piece's month and its own day range. */
export function monthPieces(fromDay: string, toDay: string): Array<{month: string; fromDay: string; toDay: string}> {
  const pieces: Array<{month: string; fromDay: string; toDay: string}> = []
  for (let start = fromDay; start < toDay;) {
    const month = monthOfDay(start)
    const next = firstDayOfNextMonth(month)
    const end = next < toDay ? next : toDay
    pieces.push({month, fromDay: start, toDay: end})
    start = end
  }
  return pieces
}
