import {toCsv, type CsvField} from './csv.js'
import type {BilledUsage, Report, Usage} from './usage-report.js'

const rawHeader = ['raw_up', 'raw_down', 'raw_total']

function rawFields(usage: BilledUsage): CsvField[] {
  return [usage.raw.up, usage.raw.down, usage.raw.total]
}

/** Unmanaged bytes are never billed: what the nodes counted is all there is. */
function unbilledFields(usage: Usage): CsvField[] {
  return [usage.up, usage.down, usage.total]
}

/**
 * A report as RFC 4180 CSV with a header row and integer bytes. The first column says what a row is (`user`, `node`,
 * `day`, `total`, `unmanaged`), so the unmanaged line never reads as a user and the totals row is easy to skip.
 * up/down/total are billed bytes; raw_up/raw_down/raw_total, last, what the nodes counted (inbounds: raw only).
 */
export function reportToCsv(report: Report): string {
  switch (report.kind) {
    case 'users': {
      const rows: CsvField[][] = [
        [
          'kind',
          'name',
          'status',
          'up',
          'down',
          'total',
          'monthly_quota',
          'allowance',
          'period_start',
          'period_end',
          'period_used',
          'percent',
          ...rawHeader,
        ],
      ]
      for (const row of report.rows) {
        rows.push([
          'user',
          row.name,
          row.status,
          row.up,
          row.down,
          row.total,
          row.monthlyQuota,
          row.allowance,
          row.periodStart,
          row.periodEnd,
          row.periodUsed,
          row.percent,
          ...rawFields(row),
        ])
      }
      rows.push([
        'total',
        '',
        '',
        report.totals.up,
        report.totals.down,
        report.totals.total,
        null,
        null,
        null,
        null,
        null,
        null,
        ...rawFields(report.totals),
      ])
      rows.push([
        'unmanaged',
        '',
        '',
        report.unmanaged.up,
        report.unmanaged.down,
        report.unmanaged.total,
        null,
        null,
        null,
        null,
        null,
        null,
        ...unbilledFields(report.unmanaged),
      ])
      return toCsv(rows)
    }
    case 'nodes': {
      const rows: CsvField[][] = [['kind', 'name', 'users', 'up', 'down', 'total', 'unmanaged', ...rawHeader]]
      for (const row of report.rows)
        rows.push(['node', row.name, row.users, row.up, row.down, row.total, row.unmanaged, ...rawFields(row)])
      rows.push([
        'total',
        '',
        null,
        report.totals.up,
        report.totals.down,
        report.totals.total,
        report.unmanaged.total,
        ...rawFields(report.totals),
      ])
      return toCsv(rows)
    }
    case 'inbounds': {
      const rows: CsvField[][] = [['kind', 'node', 'inbound', 'up', 'down', 'total']]
      for (const row of report.rows) rows.push(['inbound', row.node, row.name, row.up, row.down, row.total])
      rows.push(['total', '', '', report.totals.up, report.totals.down, report.totals.total])
      return toCsv(rows)
    }
    case 'user': {
      const rows: CsvField[][] = [['kind', 'day', 'up', 'down', 'total', ...rawHeader]]
      if (report.folded)
        rows.push([
          'folded',
          report.month,
          report.folded.up,
          report.folded.down,
          report.folded.total,
          ...rawFields(report.folded),
        ])
      for (const day of report.days) rows.push(['day', day.day, day.up, day.down, day.total, ...rawFields(day)])
      rows.push(['total', '', report.totals.up, report.totals.down, report.totals.total, ...rawFields(report.totals)])
      return toCsv(rows)
    }
  }
}
