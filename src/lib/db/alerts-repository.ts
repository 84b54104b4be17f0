import type {Insertable} from 'kysely'

import type {Db} from './open-database.js'
import type {AlertsTable, ChannelRow, ChannelType} from './schema.js'

export async function channelSendingTo(db: Db, type: ChannelType, target: string): Promise<{id: number} | undefined> {
  return db
    .selectFrom('alert_channels')
    .select('id')
    .where('type', '=', type)
    .where('target', '=', target)
    .executeTakeFirst()
}

export async function insertChannel(db: Db, channel: Omit<ChannelRow, 'id'>): Promise<number> {
  const inserted = await db.insertInto('alert_channels').values(channel).returning('id').executeTakeFirstOrThrow()
  return inserted.id
}

export async function allChannels(db: Db): Promise<ChannelRow[]> {
  return db.selectFrom('alert_channels').selectAll().orderBy('id').execute()
}

export async function findChannel(db: Db, id: number): Promise<ChannelRow | undefined> {
  return db.selectFrom('alert_channels').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function deleteChannel(db: Db, id: number): Promise<void> {
  // The outbox rows go with it (ON DELETE CASCADE): nobody is left to send them to.
  await db.deleteFrom('alert_channels').where('id', '=', id).execute()
}

/** Outbox rows not delivered: still pending, or given up on. */
export async function undeliveredDeliveries(
  db: Db,
): Promise<
  Array<{channel_id: number; failed_at: number | null; last_error: string | null; last_attempt_at: number | null}>
> {
  return db
    .selectFrom('alert_outbox')
    .select(['channel_id', 'failed_at', 'last_error', 'last_attempt_at'])
    .where('delivered_at', 'is', null)
    .execute()
}

/**
 * Records an alert unless one was already raised for the same user, kind, threshold and occasion: the database's
 * unique key drops it, so overlapping checks cannot send it twice. Returns the new alert's id, or undefined.
 */
export async function insertAlertOnce(db: Db, alert: Insertable<AlertsTable>): Promise<number | undefined> {
  const inserted = await db
    .insertInto('alerts')
    .values(alert)
    .onConflict((oc) => oc.columns(['user_name', 'kind', 'threshold', 'occasion']).doNothing())
    .returning('id')
    .executeTakeFirst()
  return inserted?.id
}

/** Queues an alert for every channel there is, in one statement. */
export async function queueForEveryChannel(db: Db, alertId: number): Promise<void> {
  await db
    .insertInto('alert_outbox')
    .columns(['alert_id', 'channel_id', 'attempts'])
    .expression((eb) =>
      eb
        .selectFrom('alert_channels')
        .select([eb.val(alertId).as('alert_id'), 'id as channel_id', eb.val(0).as('attempts')]),
    )
    .execute()
}

/** Deliveries neither sent nor given up on, oldest alert first, that no other run is sending right now. */
export async function pendingDeliveryRows(db: Db, now: number) {
  return db
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
}

/** One alert on one channel: an outbox row's key. */
export interface DeliveryKey {
  alertId: number
  channelId: number
}

/**
 * Takes a delivery until `claimedUntil` unless another run holds it (its claim runs past `now`); the conditional
 * update is the lock. Returns whether it was taken.
 */
export async function claimDelivery(
  db: Db,
  delivery: DeliveryKey,
  now: number,
  claimedUntil: number,
): Promise<boolean> {
  const result = await db
    .updateTable('alert_outbox')
    .set({claimed_until: claimedUntil})
    .where('alert_id', '=', delivery.alertId)
    .where('channel_id', '=', delivery.channelId)
    .where('delivered_at', 'is', null)
    .where('failed_at', 'is', null)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
    .executeTakeFirst()
  return result.numUpdatedRows === 1n
}

export async function recordDelivered(db: Db, delivery: DeliveryKey, attempts: number, now: number): Promise<void> {
  await db
    .updateTable('alert_outbox')
    .set({attempts, last_attempt_at: now, last_error: null, claimed_until: null, delivered_at: now})
    .where('alert_id', '=', delivery.alertId)
    .where('channel_id', '=', delivery.channelId)
    .execute()
}

/** A failed attempt; `failedAt` set gives the delivery up (it is no longer retried). */
export async function recordFailedAttempt(
  db: Db,
  delivery: DeliveryKey,
  attempts: number,
  error: string,
  now: number,
  failedAt: number | null,
): Promise<void> {
  await db
    .updateTable('alert_outbox')
    .set({attempts, last_attempt_at: now, last_error: error, claimed_until: null, failed_at: failedAt})
    .where('alert_id', '=', delivery.alertId)
    .where('channel_id', '=', delivery.channelId)
    .execute()
}
