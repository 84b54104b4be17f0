import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {alertDb, type AlertRow, type ChannelRow} from './alert-tables.js'
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
  return alertDb(db)
    .transaction()
    .execute(async (trx) => {
      let queued = 0
      for (const alert of alerts) {
        const inserted = await trx
          .insertInto('alerts')
          .values({
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
          .onConflict((oc) => oc.columns(['user_name', 'kind', 'threshold', 'occasion']).doNothing())
          .returning('id')
          .executeTakeFirst()
        if (!inserted) continue
        queued++
        await trx
          .insertInto('alert_outbox')
          .columns(['alert_id', 'channel_id', 'attempts'])
          .expression((eb) => eb.selectFrom('alert_channels').select([eb.val(inserted.id).as('alert_id'), 'id as channel_id', eb.val(0).as('attempts')]))
          .execute()
      }
      return queued
    })
}

/** Deliveries neither sent nor given up on, oldest alert first, that no other run is sending right now. */
export async function pendingDeliveries(db: Db, now: number): Promise<PendingDelivery[]> {
  const rows = await alertDb(db)
    .selectFrom('alert_outbox')
    .innerJoin('alerts', 'alerts.id', 'alert_outbox.alert_id')
    .innerJoin('alert_channels', 'alert_channels.id', 'alert_outbox.channel_id')
    .select([
      'alerts.id as alert_id',
      'alerts.user_name',
      'alerts.kind',
      'alerts.threshold',
      'alerts.occasion',
      'alerts.period_start',
      'alerts.period_used',
      'alerts.allowance',
      'alerts.expires_at',
      'alerts.at',
      'alerts.text',
      'alert_channels.id as channel_id',
      'alert_channels.type',
      'alert_channels.target',
      'alert_channels.secret',
      'alert_channels.created_at',
      'alert_outbox.attempts',
    ])
    .where('alert_outbox.delivered_at', 'is', null)
    .where('alert_outbox.failed_at', 'is', null)
    .where((eb) => eb.or([eb('alert_outbox.claimed_until', 'is', null), eb('alert_outbox.claimed_until', '<=', now)]))
    .orderBy('alerts.id')
    .orderBy('alert_channels.id')
    .execute()
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

const kindsWithThreshold = new Set<AlertKind>(['threshold', 'expiry-soon', 'max-ips'])

/**
 * What makes an alert new, besides its user, kind and threshold: the billing period, except for expiry alerts, which
 * belong to the expiry instant so that extending a user's expiry arms them again.
 */
function occasionOf(alert: Alert): number {
  if (alert.kind === 'expiry-soon' || alert.kind === 'expired') return alert.expiresAt ?? alert.periodStart
  return alert.periodStart
}
