import type {ScenarioResult} from './bench-results.js'

/** The human summary: one line per scenario and size, failures spelled out under the table. */
export function renderResults(results: readonly ScenarioResult[]): string {
  const header = ['scenario', 'users', 'runs', 'median', 'min–max', 'peak RSS', 'target', 'result']
  const rows: string[][] = []
  const failures: string[] = []
  for (const scenario of results) {
    for (const result of scenario.sizes) {
      rows.push([
        scenario.name,
        result.size.toLocaleString('en-US'),
        String(result.runsMs.length),
        result.medianMs === null ? '-' : seconds(result.medianMs),
        result.minMs === null || result.maxMs === null
          ? '-'
          : `${seconds(result.minMs, false)}–${seconds(result.maxMs)}`,
        result.rssMb === null ? '-' : `${Math.round(result.rssMb)} MB`,
        result.targetSeconds === null ? '-' : `≤ ${result.targetSeconds} s`,
        result.verdict ?? '-',
      ])
      if (result.error !== null) failures.push(`${scenario.name} at ${result.size}: ${result.error}`)
    }
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)))
  const numeric = new Set([1, 2, 3, 4, 5])
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd()
  const text = [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)]
  if (failures.length > 0) text.push('', 'failures:', ...failures.map((failure) => `  ${failure}`))
  return `${text.join('\n')}\n`
}

function seconds(ms: number, unit = true): string {
  return `${(ms / 1000).toFixed(3)}${unit ? ' s' : ''}`
}
