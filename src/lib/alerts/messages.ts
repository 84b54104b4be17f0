import {formatInstant, formatQuota, formatSize} from '../domain/format.js'
import type {Alert, AlertKind} from '../domain/due-alerts.js'
import {driftHint} from '../domain/interface-drift.js'

/** The JSON a webhook receives, keys in this order. Bytes are integers, times ISO 8601; null where a kind has none. */
export interface WebhookBody {
  kind: AlertKind | 'test' | 'summary'
  user: string | null
  /** The node a `drift` alert is about; null for every other kind. */
  node: string | null
  threshold: number | null
  periodStart: string | null
  periodUsed: number | null
  allowance: number | null
  expiresAt: string | null
  at: string
  text: string
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString()
}

function instant(epochMs: number, timeZone: string): string {
  return formatInstant(iso(epochMs), timeZone)
}

/** The human sentence of an alert, in the install's time zone; it goes to Telegram and into the webhook's `text`. */
export function alertText(alert: Alert, timeZone: string): string {
  const used = `${formatSize(alert.periodUsed)} of ${formatQuota(alert.allowance)} used since ${instant(alert.periodStart, timeZone)}`
  switch (alert.kind) {
    case 'threshold':
      return `sbq: ${alert.user} has reached ${alert.threshold}% of this period's allowance (${used})`
    case 'expiry-soon':
      return `sbq: ${alert.user} expires at ${alert.expiresAt === null ? '-' : instant(alert.expiresAt, timeZone)} (within ${alert.threshold} days)`
    case 'limited':
      return `sbq: ${alert.user} is limited (${used})`
    case 'expired':
      return `sbq: ${alert.user} expired at ${alert.expiresAt === null ? '-' : instant(alert.expiresAt, timeZone)} and is cut off`
    case 're-enabled':
      return `sbq: ${alert.user} is active again (${used})`
    case 'max-ips':
      return `sbq: ${alert.user} was seen on ${alert.ipsSeen ?? 'more'} IPs at once; the limit is ${alert.threshold}`
    case 'drift':
      return `sbq: node ${alert.user} counted ${formatSize(alert.periodUsed)} since ${instant(alert.periodStart, timeZone)} while interface ${alert.hostInterface ?? '-'} carried ${formatSize(alert.allowance)}, under ${alert.threshold}% of half of it; ${driftHint}`
  }
}

export function alertBody(alert: Alert, text: string): WebhookBody {
  const aboutNode = alert.kind === 'drift'
  return {
    kind: alert.kind,
    user: aboutNode ? null : alert.user,
    node: aboutNode ? alert.user : null,
    threshold: alert.threshold,
    periodStart: iso(alert.periodStart),
    periodUsed: alert.periodUsed,
    allowance: alert.allowance,
    expiresAt: alert.expiresAt === null ? null : iso(alert.expiresAt),
    at: iso(alert.at),
    text,
  }
}

export function testBody(hostname: string, now: number): WebhookBody {
  return messageBody('test', `sbq: test alert from ${hostname}; alerts from this host will arrive here`, now)
}

/** A message about no one user in particular: a test, or the daily report's summary. */
export function messageBody(kind: 'test' | 'summary', text: string, now: number): WebhookBody {
  return {
    kind,
    user: null,
    node: null,
    threshold: null,
    periodStart: null,
    periodUsed: null,
    allowance: null,
    expiresAt: null,
    at: iso(now),
    text,
  }
}
