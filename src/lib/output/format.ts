import type {ChalkInstance} from 'chalk'

import {formatSize} from '../quotas/size.js'
import {formatLocalDate, toLocal} from '../time/zoned-time.js'

export {formatSize}

export function formatQuota(bytes: number): string {
  return bytes === 0 ? 'unlimited' : formatSize(bytes)
}

/** `2025-06-30 00:00` in the install's zone; '-' for none. */
export function formatInstant(iso: string | null, timeZone: string): string {
  if (iso === null) return '-'
  const local = toLocal(Date.parse(iso), timeZone)
  return `${formatLocalDate(local)} ${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')}`
}

export function formatDate(iso: string | null, timeZone: string): string {
  return iso === null ? '-' : formatInstant(iso, timeZone).slice(0, 10)
}

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
