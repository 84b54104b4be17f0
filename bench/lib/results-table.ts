import type {ScenarioResult, SizeResult} from './bench-results.js'
import {dialectLabels, type DialectName} from './bench-dialects.js'

/**
 * The human summary, a Markdown table that reads as well in a terminal: per scenario and size, each dialect's median
 * and peak RSS side by side, and PostgreSQL's time as a multiple of SQLite's; failures spelled out under it.
 */
export function renderResults(results: readonly ScenarioResult[], dialects: readonly DialectName[]): string {
  const both = dialects.length > 1
  const header = [
    'scenario',
    'users',
    ...dialects.map((dialect) => dialectLabels[dialect]),
    ...(both ? ['PG/SQLite'] : []),
    ...dialects.map((dialect) => `${dialectLabels[dialect]} RSS`),
    'target',
  ]
  const rows: string[][] = []
  const failures: string[] = []
  for (const scenario of results) {
    const sizes = [...new Set(scenario.sizes.map((result) => result.size))]
    for (const size of sizes) {
      const cells = dialects.map((dialect) =>
        scenario.sizes.find((result) => result.size === size && result.dialect === dialect),
      )
      const [first, second] = cells
      rows.push([
        scenario.name,
        size.toLocaleString('en-US'),
        ...cells.map(median),
        ...(both ? [ratio(first, second)] : []),
        ...cells.map((result) => (result?.rssMb == null ? '-' : `${Math.round(result.rssMb)} MB`)),
        target(cells),
      ])
      for (const result of cells)
        if (result?.error != null)
          failures.push(`${scenario.name} at ${size} on ${dialectLabels[result.dialect]}: ${result.error}`)
    }
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)))
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`
  const rule = `| ${widths.map((width, column) => (column === 0 ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`)).join(' | ')} |`
  const text = [line(header), rule, ...rows.map(line)]
  if (failures.length > 0) text.push('', 'failures:', ...failures.map((failure) => `  ${failure}`))
  return `${text.join('\n')}\n`
}

function median(result: SizeResult | undefined): string {
  if (result === undefined) return '-'
  if (result.timedOut) return 'timed out'
  return result.medianMs === null ? 'failed' : seconds(result.medianMs)
}

function ratio(sqlite: SizeResult | undefined, postgres: SizeResult | undefined): string {
  if (sqlite?.medianMs == null || postgres?.medianMs == null) return '-'
  return `${(postgres.medianMs / sqlite.medianMs).toFixed(2)}×`
}

/** The bound and each dialect's verdict against it, e.g. "≤ 0.6 s: PASS / MISS". */
function target(cells: Array<SizeResult | undefined>): string {
  const bound = cells.find((result) => result?.targetSeconds != null)?.targetSeconds
  if (bound == null) return '-'
  return `≤ ${bound} s: ${cells.map((result) => result?.verdict ?? '-').join(' / ')}`
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`
}
