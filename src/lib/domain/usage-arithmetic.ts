/** The arithmetic of usage reports: bytes up and down, their sums, shares of an allowance and the busiest-first order. */
import type {MonthRange} from './month-range.js'

export interface Usage {
  up: number
  down: number
  total: number
}

export function usage(row: {up: number; down: number}): Usage {
  return {up: row.up, down: row.down, total: row.up + row.down}
}

/** Managed bytes: up/down/total billed (each node's bytes times its ratio), `raw` as the nodes counted them. */
export interface BilledUsage extends Usage {
  raw: Usage
}

export function billedUsage(row: {up: number; down: number; raw_up: number; raw_down: number}): BilledUsage {
  return {...usage(row), raw: usage({up: row.raw_up, down: row.raw_down})}
}

export function sumBilledUsage(rows: readonly BilledUsage[]): BilledUsage {
  return {...sumUsage(rows), raw: sumUsage(rows.map((row) => row.raw))}
}

/** Whether any row was billed at a ratio other than 1: then reports show raw bytes beside billed ones. */
export function anyMultiplied(rows: readonly BilledUsage[]): boolean {
  return rows.some((row) => row.up !== row.raw.up || row.down !== row.raw.down)
}

/** Totals are added up from the rows SQL already summed, so a totals row always equals the sum of the rows above it. */
export function sumUsage(rows: readonly Usage[]): Usage {
  let up = 0
  let down = 0
  for (const row of rows) {
    up += row.up
    down += row.down
  }
  return {up, down, total: up + down}
}

export function percentOf(used: number | null, allowance: number | null): number | null {
  if (used === null || allowance === null || allowance === 0) return null
  return Math.round((used / allowance) * 1000) / 10
}

/** The instant whose billing periods a month's percentages are of: now for the current month, else the month's last moment. */
export function referenceInstant(range: Pick<MonthRange, 'start' | 'end'>, now: number): number {
  return Math.min(Math.max(now, range.start), range.end - 1)
}

export function byTotalThenName(a: Usage & {name: string}, b: Usage & {name: string}): number {
  return b.total - a.total || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}
