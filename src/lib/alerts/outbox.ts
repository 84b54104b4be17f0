import type {Context} from '../context.js'
import {insertAlertOnce, pendingDeliveryRows, queueForEveryChannel} from '../db/alerts-repository.js'
import type {Db} from '../db/open-database.js'
import type {AlertRow, ChannelRow} from '../db/schema.js'
import type {Alert, AlertKind} from '../domain/due-alerts.js'
import {alertText} from './messages.js'

/** A delivery still owed: one alert on one channel. */
export interface PendingDelivery {
  alert: AlertRow
  channel: ChannelRow
  attempts: number
}

/**
 * Records alerts and queues each one for every channel, once: an alert already raised for the same user, kind,
 * threshold and occasion is dropped by the database's unique key, so overlapping checks cannot send it twice.
 * Returns how many alerts were new.
 */
export async function enqueueAlerts(db: Db, alerts: Alert[], context: Context): Promise<number> {
  if (alerts.length === 0) return 0
  // Every statement here writes, and the first one takes SQLite's write lock: a transaction that read first could not
  // wait for an overlapping run's lock (SQLITE_BUSY_SNAPSHOT) and would fail instead.
  return db.transaction().execute(async (trx) => {
    let queued = 0
    for (const alert of alerts) {
      const id = await insertAlertOnce(trx, {
        user_name: alert.user,
        kind: alert.kind,
        threshold: alert.threshold ?? 0,
        occasion: occasionOf(alert),
        period_start: alert.periodStart,
        period_used: alert.periodUsed,
        allowance: alert.allowance,
        expires_at: alert.expiresAt,
        at: alert.at,
        text: alertText(alert, context.timeZone),
      })
      if (id === undefined) continue
      queued++
      await queueForEveryChannel(trx, id)
    }
    return queued
  })
}

/** Deliveries neither sent nor given up on, oldest alert first, that no other run is sending right now. */
export async function pendingDeliveries(db: Db, now: number): Promise<PendingDelivery[]> {
  const rows = await pendingDeliveryRows(db, now)
  return rows.map((row) => ({
    alert: {
      id: row.alert_id,
      user_name: row.user_name,
      kind: row.kind,
      threshold: row.threshold,
      occasion: row.occasion,
      period_start: row.period_start,
      period_used: row.period_used,
      allowance: row.allowance,
      expires_at: row.expires_at,
      at: row.at,
      text: row.text,
    },
    channel: {id: row.channel_id, type: row.type, target: row.target, secret: row.secret, created_at: row.created_at},
    attempts: row.attempts,
  }))
}

/** The alert a stored row records, as the rules raised it. */
export function alertOfRow(row: AlertRow): Alert {
  const kind = row.kind as AlertKind
  return {
    kind,
    user: row.user_name,
    threshold: kindsWithThreshold.has(kind) ? row.threshold : null,
    periodStart: row.period_start,
    periodUsed: row.period_used,
    allowance: row.allowance,
    expiresAt: row.expires_at,
    at: row.at,
  }
}

const kindsWithThreshold = new Set<AlertKind>(['threshold', 'expiry-soon', 'max-ips', 'drift'])

/**
 * What makes an alert new, besides its user, kind and threshold: the billing period, except for expiry alerts, which
 * belong to the expiry instant so that extending a user's expiry arms them again.
 */
function occasionOf(alert: Alert): number {
  if (alert.kind === 'expiry-soon' || alert.kind === 'expired') return alert.expiresAt ?? alert.periodStart
  return alert.periodStart
}
