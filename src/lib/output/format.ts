import type {ChalkInstance} from 'chalk'

export {formatDate, formatInstant, formatQuota, formatSize} from '../domain/format.js'

const barWidth = 10

/** A usage bar like `███████░░░  70%`, red at 100%, yellow from 80%. */
export function usageBar(used: number, allowance: number, style: ChalkInstance): string {
  if (allowance === 0) return ''
  const ratio = used / allowance
  const filled = Math.min(barWidth, Math.round(ratio * barWidth))
  const colour = ratio >= 1 ? style.red : ratio >= 0.8 ? style.yellow : style.green
  return `${colour('█'.repeat(filled))}${style.dim('░'.repeat(barWidth - filled))} ${String(Math.floor(ratio * 100)).padStart(3)}%`
}

export function statusText(status: string, style: ChalkInstance): string {
  switch (status) {
    case 'active':
      return style.green(status)
    case 'limited':
    case 'expired':
      return style.red(status)
    default:
      return style.yellow(status)
  }
}
