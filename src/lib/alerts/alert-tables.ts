import type {Generated, Kysely, Selectable} from 'kysely'

import type {Database} from '../db/schema.js'

export type ChannelType = 'webhook' | 'telegram'
export const channelTypes: readonly ChannelType[] = ['webhook', 'telegram']

export interface AlertChannelsTable {
  id: Generated<number>
  type: ChannelType
  target: string
  secret: string | null
  created_at: number
}

export interface AlertsTable {
  id: Generated<number>
  user_name: string
  kind: string
  threshold: number
  occasion: number
  period_start: number
  period_used: number
  allowance: number
  expires_at: number | null
  at: number
  text: string
}

export interface AlertOutboxTable {
  alert_id: number
  channel_id: number
  attempts: number
  last_error: string | null
  last_attempt_at: number | null
  claimed_until: number | null
  delivered_at: number | null
  failed_at: number | null
}

/** The tables of migration 0003, kept out of schema.ts so the alert code owns them (a type: withTables needs an index signature). */
export type AlertTables = {
  alert_channels: AlertChannelsTable
  alerts: AlertsTable
  alert_outbox: AlertOutboxTable
}

export type AlertDb = Kysely<Database & AlertTables>
export type ChannelRow = Selectable<AlertChannelsTable>
export type AlertRow = Selectable<AlertsTable>

export function alertDb(db: Kysely<Database>): AlertDb {
  return db.withTables<AlertTables>()
}
