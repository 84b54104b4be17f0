import {formatSize} from '../domain/format.js'
import type {UsersReport} from './usage-report.js'

export interface SummaryOptions {
  /** How many of the busiest users to name. */
  top?: number
  /** The percentage from which a user counts as near their quota. */
  nearPercent?: number
}

/** A short plain-text digest of a month's report for an alert channel: totals, the busiest users, who is near or over quota. */
export function summaryText(report: UsersReport, options: SummaryOptions = {}): string {
  const top = options.top ?? 5
  const nearPercent = options.nearPercent ?? 80
  const active = report.rows.filter((row) => row.total > 0)
  const lines = [
    `sbq report ${report.month}${report.node === null ? '' : ` on ${report.node}`}: ${formatSize(report.totals.total)} ` +
      `(up ${formatSize(report.totals.up)}, down ${formatSize(report.totals.down)}) by ${active.length} of ${report.users} users`,
  ]
  if (active.length > 0)
    lines.push(
      `top: ${active
        .slice(0, top)
        .map((row) => `${row.name} ${formatSize(row.total)}`)
        .join(', ')}`,
    )
  const over = report.rows.filter((row) => row.percent !== null && row.percent >= 100)
  const near = report.rows.filter((row) => row.percent !== null && row.percent >= nearPercent && row.percent < 100)
  if (over.length > 0) lines.push(`over quota: ${over.map((row) => `${row.name} ${row.percent}%`).join(', ')}`)
  if (near.length > 0)
    lines.push(`near quota (≥${nearPercent}%): ${near.map((row) => `${row.name} ${row.percent}%`).join(', ')}`)
  if (report.unmanaged.total > 0)
    lines.push(
      `unmanaged: ${formatSize(report.unmanaged.total)} by ${report.unmanaged.names} unknown names (not billed)`,
    )
  return lines.join('\n')
}
