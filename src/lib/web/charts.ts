import {html, type Html} from './html.js'
import {usageLevel} from './pages/view-format.js'

/**
 * Charts as inline SVG: shapes only, stretched to the width they are given (`preserveAspectRatio="none"`); every
 * label is HTML beside them, so text stays readable at any width. No script and no styles inside, so the CSP allows them.
 */

/** A usage bar: the share of the allowance used, capped at full; an unlimited allowance draws an empty track. */
export function usageBar(used: number, allowance: number): Html {
  const width = allowance === 0 ? 0 : Math.min(100, (used / allowance) * 100)
  return html`<svg class="bar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true" focusable="false"><rect class="bar-track" width="100" height="8" rx="4"></rect><rect class="bar-fill level-${usageLevel(used, allowance)}" width="${width.toFixed(2)}" height="8" rx="4"></rect></svg>`
}

export interface ChartDay {
  day: string
  up: number
  down: number
  total: number
}

const chartWidth = 300
const chartHeight = 100

/** Daily traffic as stacked bars (download below, upload above), one per day, each with a tooltip. */
export function dailyBars(days: readonly ChartDay[], describe: (day: ChartDay) => string): Html {
  const max = Math.max(1, ...days.map((day) => day.total))
  const slot = chartWidth / Math.max(1, days.length)
  const gap = Math.min(1.5, slot * 0.2)
  const bars = days.map((day, index) => {
    const x = (index * slot + gap / 2).toFixed(2)
    const width = (slot - gap).toFixed(2)
    const downHeight = (day.down / max) * chartHeight
    const upHeight = (day.up / max) * chartHeight
    return html`<g><title>${describe(day)}</title><rect class="chart-slot" x="${x}" y="0" width="${width}" height="${chartHeight}"></rect><rect class="chart-down" x="${x}" y="${(chartHeight - downHeight).toFixed(2)}" width="${width}" height="${downHeight.toFixed(2)}"></rect><rect class="chart-up" x="${x}" y="${(chartHeight - downHeight - upHeight).toFixed(2)}" width="${width}" height="${upHeight.toFixed(2)}"></rect></g>`
  })
  return html`<svg class="chart" viewBox="0 0 ${chartWidth} ${chartHeight}" preserveAspectRatio="none" role="img">${bars}</svg>`
}

/**
 * Cumulative traffic over a period's days so far, against the whole period's width, with the allowance as a
 * dashed line when there is one. The y scale fits whichever is higher, the allowance or what was used.
 */
export function cumulativeLine(dailyTotals: readonly number[], periodDays: number, allowance: number): Html {
  const sums: number[] = []
  let running = 0
  for (const total of dailyTotals) sums.push((running += total))
  const top = Math.max(1, allowance, running) * 1.05
  const step = chartWidth / Math.max(1, periodDays)
  const y = (bytes: number) => (chartHeight - (bytes / top) * chartHeight).toFixed(2)
  const points = sums.map((sum, index) => `${((index + 1) * step).toFixed(2)},${y(sum)}`)
  const line = ['0,' + y(0), ...points].join(' ')
  const lastX = (sums.length * step).toFixed(2)
  const area = `0,${chartHeight} ${line} ${lastX},${chartHeight}`
  const allowanceLine =
    allowance > 0
      ? html`<line class="chart-allowance" x1="0" x2="${chartWidth}" y1="${y(allowance)}" y2="${y(allowance)}" vector-effect="non-scaling-stroke"></line>`
      : ''
  return html`<svg class="chart" viewBox="0 0 ${chartWidth} ${chartHeight}" preserveAspectRatio="none" role="img"><polygon class="chart-area level-${usageLevel(running, allowance)}" points="${area}"></polygon><polyline class="chart-line level-${usageLevel(running, allowance)}" points="${line}" vector-effect="non-scaling-stroke"></polyline>${allowanceLine}</svg>`
}
