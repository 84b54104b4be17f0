import type {Kysely} from 'kysely'

// 3x-ui never reads the answer to its reports, so a refused one is lost without trace unless the receiver keeps it:
// per node, how many reports were refused, the last refusal, and how many unmanaged names were turned away.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('nodes')
    .addColumn('refused_reports', 'integer', (col) => col.notNull().defaultTo(0))
    .execute()
  await db.schema
    .alterTable('nodes')
    .addColumn('refused_names', 'integer', (col) => col.notNull().defaultTo(0))
    .execute()
  await db.schema.alterTable('nodes').addColumn('last_refused_at', 'bigint').execute()
  // The HTTP status the sender got (200 when only some names were turned away), the reason, and the body's size.
  await db.schema.alterTable('nodes').addColumn('last_refusal_status', 'integer').execute()
  await db.schema.alterTable('nodes').addColumn('last_refusal_reason', 'text').execute()
  await db.schema.alterTable('nodes').addColumn('last_refusal_bytes', 'bigint').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of [
    'last_refusal_bytes',
    'last_refusal_reason',
    'last_refusal_status',
    'last_refused_at',
    'refused_names',
    'refused_reports',
  ]) {
    await db.schema.alterTable('nodes').dropColumn(column).execute()
  }
}
