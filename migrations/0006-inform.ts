import type {Kysely} from 'kysely'

// Nodes that report by themselves (3x-ui's External Traffic Inform) and nodes that push their pulls to a central sbq.
export async function up(db: Kysely<unknown>): Promise<void> {
  // sha256 of the node's random inform token: enough for 32 random bytes, and a stolen database reveals no token.
  await db.schema.alterTable('nodes').addColumn('token_hash', 'text').execute()
  // The public base URL the inform URI was printed with, so a rotated token prints the same kind of URL.
  await db.schema.alterTable('nodes').addColumn('public_url', 'text').execute()
  await db.schema.alterTable('nodes').addColumn('panel_url', 'text').execute()
  await db.schema.alterTable('nodes').addColumn('panel_user', 'text').execute()
  await db.schema.alterTable('nodes').addColumn('panel_password', 'text').execute()
  // Where this node's pulls are pushed, in 3x-ui's inform format.
  await db.schema.alterTable('nodes').addColumn('inform_url', 'text').execute()
  // Bytes counted for the node since this migration, kept with the ledger so /metrics never sums the daily rows.
  await db.schema
    .alterTable('nodes')
    .addColumn('counted_up', 'bigint', (col) => col.notNull().defaultTo(0))
    .execute()
  await db.schema
    .alterTable('nodes')
    .addColumn('counted_down', 'bigint', (col) => col.notNull().defaultTo(0))
    .execute()

  await db.schema
    .createTable('inbound_usage_daily')
    .addColumn('day', 'text', (col) => col.notNull())
    .addColumn('node_name', 'text', (col) => col.notNull())
    .addColumn('tag', 'text', (col) => col.notNull())
    .addColumn('up', 'bigint', (col) => col.notNull())
    .addColumn('down', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('inbound_usage_daily_pk', ['day', 'node_name', 'tag'])
    .execute()

  // Pushes not yet acknowledged by the receiver; written in the pull's transaction, deleted after a 2xx.
  await db.schema
    .createTable('inform_outbox')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('node_id', 'integer', (col) => col.notNull().references('nodes.id').onDelete('cascade'))
    .addColumn('request_id', 'text', (col) => col.notNull().unique())
    .addColumn('body', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .execute()

  // Request ids the receiver has recorded, so a push re-sent after a lost acknowledgement is counted once.
  await db.schema
    .createTable('inform_receipts')
    .addColumn('node_id', 'integer', (col) => col.notNull().references('nodes.id').onDelete('cascade'))
    .addColumn('request_id', 'text', (col) => col.notNull())
    .addColumn('received_at', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('inform_receipts_pk', ['node_id', 'request_id'])
    .execute()
  await db.schema.createIndex('inform_receipts_received_at').on('inform_receipts').column('received_at').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['inform_receipts', 'inform_outbox', 'inbound_usage_daily'])
    await db.schema.dropTable(table).execute()
  for (const column of [
    'counted_down',
    'counted_up',
    'inform_url',
    'panel_password',
    'panel_user',
    'panel_url',
    'public_url',
    'token_hash',
  ]) {
    await db.schema.alterTable('nodes').dropColumn(column).execute()
  }
}
