/** Sizes, quotas and instants as people read them, in the install's zone. */
import {formatSize} from './size.js'
import {formatLocalDate, toLocal} from './zoned-time.js'

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
