import type {ScenarioResult, SizeResult} from './bench-results.js'
import {dialectLabels, type DialectName} from './bench-dialects.js'
import {dialectRatio} from './targets.js'

/**
 * The human summary, a Markdown table that reads as well in a terminal: per scenario and size, each dialect's median
 * (min–max), its multiple of the floor measured in the same run, PostgreSQL's time as a multiple of SQLite's with its
 * verdict, peak RSS, and each bound with every dialect's verdict; the floors' own rows come first; failures spelled
 * out under it.
 */
export function renderResults(results: readonly ScenarioResult[], dialects: readonly DialectName[]): string {
  const both = dialects.length > 1
  const header = [
    'scenario',
    'users',
    ...dialects.flatMap((dialect) => [dialectLabels[dialect], `${dialectLabels[dialect]} ×floor`]),
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
      rows.push([
        scenario.name,
        size.toLocaleString('en-US'),
        ...cells.flatMap((result) => [median(result), overFloor(result)]),
        ...(both ? [ratio(cells[0], cells[1], scenario.kind !== 'floor')] : []),
        ...cells.map((result) => (result?.rssMb == null ? '-' : `${Math.round(result.rssMb)} MB`)),
        targets(cells),
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

/** "0.368 s (0.350–0.401)": the median and the spread of the timed runs. */
function median(result: SizeResult | undefined): string {
  if (result === undefined) return '-'
  if (result.timedOut) return 'timed out'
  if (result.medianMs === null) return 'failed'
  const spread = result.minMs === null || result.maxMs === null ? '' : ` (${range(result.minMs, result.maxMs)})`
  return `${seconds(result.medianMs)}${spread}`
}

/** "1.53× of 0.241 s": the median over the floor measured beside it; for a floor part, its warm median. */
function overFloor(result: SizeResult | undefined): string {
  if (result?.warmMedianMs != null) return `warm ${seconds(result.warmMedianMs)}`
  if (result?.floorRatio == null || result.floorMs === null) return '-'
  return `${result.floorRatio.toFixed(2)}× of ${seconds(result.floorMs)}`
}

function ratio(sqlite: SizeResult | undefined, postgres: SizeResult | undefined, judged: boolean): string {
  const measured = dialectRatio(sqlite?.medianMs ?? null, postgres?.medianMs ?? null)
  if (measured === null) return '-'
  return `${measured.ratio.toFixed(2)}×${judged ? ` ${measured.verdict}` : ''}`
}

/** Each bound and every dialect's verdict against it, e.g. "≤ 0.6 s: PASS / MISS; RSS < 250 MB: PASS / PASS". */
function targets(cells: Array<SizeResult | undefined>): string {
  const names = [...new Set(cells.flatMap((result) => result?.judged.map((judgement) => judgement.target) ?? []))]
  if (names.length === 0) return '-'
  return names
    .map(
      (name) =>
        `${name}: ${cells.map((result) => (result?.verdict === 'FAIL' ? 'FAIL' : (result?.judged.find((judgement) => judgement.target === name)?.verdict ?? '-'))).join(' / ')}`,
    )
    .join('; ')
}

function range(minMs: number, maxMs: number): string {
  return `${(minMs / 1000).toFixed(3)}–${(maxMs / 1000).toFixed(3)}`
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`
}
