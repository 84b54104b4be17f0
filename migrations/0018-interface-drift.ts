import type {Kysely} from 'kysely'

// Drift: a node's counted traffic against its host's network interface. `host_interface` names the interface
// (null: not compared); `interface_rx`/`interface_tx`/`interface_read_at` are its counters at the last pull, so the
// next pull knows what the interface carried in between. `interface_daily` sums, per node and local day, what the
// interface carried and what the node counted over the same pulls; `warned_at` is when that day was first found
// drifting, so a check warns once a day and not every minute.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('nodes').addColumn('host_interface', 'text').execute()
  await db.schema.alterTable('nodes').addColumn('interface_rx', 'bigint').execute()
  await db.schema.alterTable('nodes').addColumn('interface_tx', 'bigint').execute()
  await db.schema.alterTable('nodes').addColumn('interface_read_at', 'bigint').execute()
  await db.schema
    .createTable('interface_daily')
    .addColumn('node_id', 'integer', (col) => col.notNull().references('nodes.id').onDelete('cascade'))
    .addColumn('day', 'text', (col) => col.notNull())
    .addColumn('interface_bytes', 'bigint', (col) => col.notNull())
    .addColumn('counted_bytes', 'bigint', (col) => col.notNull())
    .addColumn('warned_at', 'bigint')
    .addPrimaryKeyConstraint('interface_daily_pk', ['node_id', 'day'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('interface_daily').execute()
  for (const column of ['interface_read_at', 'interface_tx', 'interface_rx', 'host_interface'])
    await db.schema.alterTable('nodes').dropColumn(column).execute()
}
