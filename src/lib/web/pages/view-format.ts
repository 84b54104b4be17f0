import {formatDate, formatInstant, formatSize} from '../../domain/format.js'
import type {Translate} from '../i18n/messages.js'

export {formatDate, formatInstant, formatSize}

/** A quota in bytes for a page: 0 is "unlimited" in the reader's language. */
export function formatQuota(bytes: number, t: Translate): string {
  return bytes === 0 ? t('common.unlimited') : formatSize(bytes)
}

/** Whole percent used of an allowance; null for unlimited. */
export function percentUsed(used: number, allowance: number): number | null {
  return allowance === 0 ? null : Math.floor((used / allowance) * 100)
}

/** The bar's colour band: ok below 80%, warn from 80%, over from 100%. */
export function usageLevel(used: number, allowance: number): 'ok' | 'warn' | 'over' {
  if (allowance === 0) return 'ok'
  const ratio = used / allowance
  return ratio >= 1 ? 'over' : ratio >= 0.8 ? 'warn' : 'ok'
}

/** `/users/NAME` with the name encoded, and an optional sub-path. */
export function userPath(name: string, action?: string): string {
  return `/users/${encodeURIComponent(name)}${action === undefined ? '' : `/${action}`}`
}
