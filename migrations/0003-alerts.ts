import type {Kysely} from 'kysely'

// Alerts are keyed by user NAME, like events: what was said about a user outlives the user.
export async function up(db: Kysely<unknown>): Promise<void> {
  // `secret` is the webhook's signing secret or the Telegram bot token; the database file is private (0600).
  await db.schema
    .createTable('alert_channels')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('type', 'text', (col) => col.notNull())
    // The webhook URL, or the Telegram chat id.
    .addColumn('target', 'text', (col) => col.notNull())
    .addColumn('secret', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addUniqueConstraint('alert_channels_target', ['type', 'target'])
    .execute()

  // One row per alert ever raised. The unique key is what makes an alert fire once even when two checks overlap:
  // `threshold` is 0 for kinds without one (NULLs never collide), and `occasion` is what re-arms the alert — the
  // period's start, or the expiry instant for expiry alerts so that an extended expiry warns again.
  await db.schema
    .createTable('alerts')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('user_name', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('threshold', 'integer', (col) => col.notNull())
    .addColumn('occasion', 'bigint', (col) => col.notNull())
    .addColumn('period_start', 'bigint', (col) => col.notNull())
    .addColumn('period_used', 'bigint', (col) => col.notNull())
    .addColumn('allowance', 'bigint', (col) => col.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('at', 'bigint', (col) => col.notNull())
    .addColumn('text', 'text', (col) => col.notNull())
    .addUniqueConstraint('alerts_once', ['user_name', 'kind', 'threshold', 'occasion'])
    .execute()

  // Delivery state of each alert on each channel that existed when it was raised. `attempts` counts runs that tried
  // (each run retries a few times itself); `claimed_until` keeps two overlapping runs from sending the same row.
  await db.schema
    .createTable('alert_outbox')
    .addColumn('alert_id', 'integer', (col) => col.notNull().references('alerts.id').onDelete('cascade'))
    .addColumn('channel_id', 'integer', (col) => col.notNull().references('alert_channels.id').onDelete('cascade'))
    .addColumn('attempts', 'integer', (col) => col.notNull())
    .addColumn('last_error', 'text')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('claimed_until', 'bigint')
    .addColumn('delivered_at', 'bigint')
    .addColumn('failed_at', 'bigint')
    .addPrimaryKeyConstraint('alert_outbox_pk', ['alert_id', 'channel_id'])
    .execute()
  await db.schema.createIndex('alert_outbox_channel').on('alert_outbox').column('channel_id').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['alert_outbox', 'alerts', 'alert_channels']) await db.schema.dropTable(table).execute()
}
