import type {ChalkInstance} from 'chalk'

import type {BackupResult} from '../reports/backup.js'
import type {DbCopyResult} from '../reports/db-copy.js'
import type {PruneResult} from '../reports/prune.js'
import type {
  InboundsReport,
  NodesReport,
  ReportHeader,
  UnmanagedUsage,
  UserMonthReport,
  UsersReport,
} from '../reports/usage-report.js'
import {anyMultiplied, type BilledUsage} from '../domain/usage-arithmetic.js'
import {formatDate, formatQuota, formatSize, statusText, usageBar} from './format.js'
import {grid, table} from './grid.js'

function title(report: ReportHeader, style: ChalkInstance): string {
  return (
    style.bold(`usage in ${report.month}`) +
    ` (${report.timeZone}${report.node === null ? '' : `, node ${report.node}`})`
  )
}

/**
 * With a node billed at a ratio other than 1, `total` is billed bytes and a `raw` column shows what the nodes
 * counted; without one they are equal and the column is left out.
 */
function rawColumn(rows: readonly BilledUsage[]): ((row: BilledUsage) => string[]) | undefined {
  return anyMultiplied(rows) ? (row) => [formatSize(row.raw.total)] : undefined
}

const rawNote =
  "total: billed bytes (each node's bytes times its ratio, what quotas count); raw: as the nodes counted them"

function unmanagedLine(unmanaged: UnmanagedUsage): string | undefined {
  if (unmanaged.names === 0) return undefined
  return `unmanaged (not billed, not in the totals): ${formatSize(unmanaged.total)} (up ${formatSize(unmanaged.up)}, down ${formatSize(unmanaged.down)}) by ${unmanaged.names} ${unmanaged.names === 1 ? 'name' : 'names'}`
}

export function renderUsersReport(report: UsersReport, style: ChalkInstance): string {
  const parts = [title(report, style)]
  if (report.rows.length === 0) {
    parts.push(`no users with traffic in ${report.month}`)
  } else {
    // Formatting a date in a zone is slow and users share a few periods: format each one once.
    const periods = new Map<string, string>()
    const periodText = (start: string, end: string) => {
      const key = `${start}/${end}`
      let text = periods.get(key)
      if (text === undefined) {
        text = `${formatDate(start, report.timeZone)} → ${formatDate(end, report.timeZone)}`
        periods.set(key, text)
      }
      return text
    }
    const raw = rawColumn([...report.rows, report.totals])
    const head = [
      'user',
      'status',
      'up',
      'down',
      'total',
      ...(raw ? ['raw'] : []),
      'quota',
      '% of quota',
      'billing period',
    ]
    const rows = report.rows.map((row) => [
      row.name,
      statusText(row.status, style),
      formatSize(row.up),
      formatSize(row.down),
      formatSize(row.total),
      ...(raw?.(row) ?? []),
      row.allowance === null ? '-' : formatQuota(row.allowance),
      row.allowance === null
        ? '-'
        : row.periodUsed === null
          ? 'unknown (pruned)'
          : usageBar(row.periodUsed, row.allowance, style),
      row.periodStart === null || row.periodEnd === null ? '-' : periodText(row.periodStart, row.periodEnd),
    ])
    const label = report.rows.length < report.users ? `total (all ${report.users} users)` : 'total'
    rows.push([
      style.bold(label),
      '',
      formatSize(report.totals.up),
      formatSize(report.totals.down),
      style.bold(formatSize(report.totals.total)),
      ...(raw?.(report.totals) ?? []),
      '',
      '',
      '',
    ])
    parts.push(grid(head, rows, style))
    if (raw) parts.push(style.dim(rawNote))
    parts.push(
      style.dim(
        `% of quota: each user's whole usage in their billing period in force on ${formatDate(report.periodsAt, report.timeZone)}`,
      ),
    )
  }
  const unmanaged = unmanagedLine(report.unmanaged)
  if (unmanaged) parts.push(unmanaged)
  return parts.join('\n')
}

export function renderInboundsReport(report: InboundsReport, style: ChalkInstance): string {
  const parts = [title(report, style)]
  if (report.rows.length === 0) {
    parts.push(`no inbound traffic reported in ${report.month} (3x-ui nodes report it with each inform)`)
    return parts.join('\n')
  }
  const out = table(['node', 'inbound', 'up', 'down', 'total'], style)
  for (const row of report.rows)
    out.push([row.node, row.name, formatSize(row.up), formatSize(row.down), formatSize(row.total)])
  out.push([
    style.bold('total'),
    '',
    formatSize(report.totals.up),
    formatSize(report.totals.down),
    style.bold(formatSize(report.totals.total)),
  ])
  parts.push(out.toString())
  parts.push("an inbound counts all it carried, names sbq does not manage included, so this total is not the users'")
  return parts.join('\n')
}

export function renderNodesReport(report: NodesReport, style: ChalkInstance): string {
  const parts = [title(report, style)]
  if (report.rows.length === 0) {
    parts.push(`no traffic on any node in ${report.month}`)
  } else {
    const raw = rawColumn([...report.rows, report.totals])
    const out = table(['node', 'users', 'up', 'down', 'total', ...(raw ? ['raw'] : []), 'unmanaged'], style)
    for (const row of report.rows) {
      out.push([
        row.name,
        String(row.users),
        formatSize(row.up),
        formatSize(row.down),
        formatSize(row.total),
        ...(raw?.(row) ?? []),
        row.unmanaged === 0 ? '-' : formatSize(row.unmanaged),
      ])
    }
    out.push([
      style.bold('total'),
      '',
      formatSize(report.totals.up),
      formatSize(report.totals.down),
      style.bold(formatSize(report.totals.total)),
      ...(raw?.(report.totals) ?? []),
      report.unmanaged.total === 0 ? '-' : formatSize(report.unmanaged.total),
    ])
    parts.push(out.toString())
    if (raw) parts.push(style.dim(rawNote))
  }
  const unmanaged = unmanagedLine(report.unmanaged)
  if (unmanaged) parts.push(unmanaged)
  return parts.join('\n')
}

const dayBarWidth = 20

/** A bar scaled to the busiest day, so the shape of the month shows whatever the quota. */
function dayBar(value: number, busiest: number): string {
  return busiest === 0 ? '' : '█'.repeat(Math.round((value / busiest) * dayBarWidth))
}

export function renderUserMonthReport(report: UserMonthReport, style: ChalkInstance): string {
  const parts = [`${title(report, style)} for ${report.user} (${statusText(report.status, style)})`]
  const busiest = Math.max(0, ...report.days.map((day) => day.total))
  const raw = rawColumn([...report.days, report.totals])
  const out = table(['day', 'up', 'down', 'total', ...(raw ? ['raw'] : []), ''], style)
  if (report.folded)
    out.push([
      'folded by prune',
      formatSize(report.folded.up),
      formatSize(report.folded.down),
      formatSize(report.folded.total),
      ...(raw?.(report.folded) ?? []),
      '',
    ])
  for (const day of report.days)
    out.push([
      day.day,
      formatSize(day.up),
      formatSize(day.down),
      formatSize(day.total),
      ...(raw?.(day) ?? []),
      style.cyan(dayBar(day.total, busiest)),
    ])
  out.push([
    style.bold('total'),
    formatSize(report.totals.up),
    formatSize(report.totals.down),
    style.bold(formatSize(report.totals.total)),
    ...(raw?.(report.totals) ?? []),
    '',
  ])
  parts.push(out.toString())
  if (raw) parts.push(style.dim(rawNote))
  const period = report.currentPeriod
  if (period) {
    parts.push(
      `current period ${formatDate(period.start, report.timeZone)} → ${formatDate(period.end, report.timeZone)}: ${formatSize(period.used)} of ${formatQuota(period.allowance)} ${usageBar(period.used, period.allowance, style)}`.trimEnd(),
    )
  } else {
    parts.push(style.dim('no current period: the user was removed'))
  }
  return parts.join('\n')
}

const sparks = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']

/** One character per value, scaled to the largest: `▁▁▃█▅`. Zero is a space, so idle days stand out from light ones. */
export function sparkline(values: readonly number[]): string {
  const largest = Math.max(0, ...values)
  return values
    .map((value) => {
      if (value <= 0) return largest === 0 ? sparks[0] : ' '
      return sparks[Math.min(sparks.length - 1, Math.ceil((value / largest) * sparks.length) - 1)]
    })
    .join('')
}

export function renderPruneResult(result: PruneResult): string {
  const rounded =
    result.requested === result.cutoff
      ? ''
      : ` (the requested ${result.requested} rounded down to a month's first day: only whole months are folded)`
  if (result.months.length === 0) return `nothing to prune before ${result.cutoff}${rounded}`
  return [
    `folded ${result.months.length === 1 ? `month ${result.months[0]}` : `months ${result.months[0]} to ${result.months.at(-1)}`} into monthly totals: ${result.dailyRowsDeleted} daily rows deleted, ${result.monthlyRowsWritten} monthly rows written`,
    `daily usage before ${result.cutoff} is now kept per month${rounded}; reports for those months show the same totals`,
  ].join('\n')
}

export function renderBackupResult(result: BackupResult): string {
  const lines = [`backed up to ${result.path} (${formatSize(result.bytes)})`]
  for (const path of result.removed) lines.push(`removed old backup ${path}`)
  return lines.join('\n')
}

export function renderDbCopyResult(result: DbCopyResult, style: ChalkInstance): string {
  const rows = result.tables
    .filter((entry) => entry.rows > 0)
    .map((entry) => [entry.name, entry.rows.toLocaleString('en-US')])
  const empty = result.tables.filter((entry) => entry.rows === 0).map((entry) => entry.name)
  const lines = [`copied ${result.from} to ${result.to} in ${result.seconds.toFixed(1)} s`]
  if (rows.length > 0) lines.push(grid(['table', 'rows'], rows, style))
  if (empty.length > 0) lines.push(`empty: ${empty.join(', ')}`)
  lines.push(
    style.bold('verified:') +
      ` the copy has the same rows in each of ${result.tables.length} tables, and each of ${result.users.toLocaleString('en-US')} users the same running totals (up ${formatSize(result.totalUp)}, down ${formatSize(result.totalDown)} in all) and daily and monthly sums`,
  )
  for (const skipped of result.skipped) lines.push(`not copied: ${skipped.name}: ${skipped.reason}`)
  return lines.join('\n')
}
