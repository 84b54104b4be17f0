import type {Kysely} from 'kysely'

// Landed migrations never change: later schema changes get a new numbered file.
// Times are epoch ms and bytes 64-bit integers (bigint) so the same schema runs on PostgreSQL.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('value', 'text', (col) => col.notNull())
    .execute()

  await db.schema
    .createTable('plans')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('name', 'text', (col) => col.notNull().unique())
    .addColumn('monthly_quota', 'bigint', (col) => col.notNull())
    .addColumn('total_quota', 'bigint', (col) => col.notNull())
    .addColumn('reset_day', 'integer', (col) => col.notNull())
    .addColumn('max_ips', 'integer')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute()

  await db.schema
    .createTable('users')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('name', 'text', (col) => col.notNull().unique())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('plan_id', 'integer', (col) => col.references('plans.id').onDelete('restrict'))
    // Null limits mean "take the plan's" (or unlimited without a plan); 0 means unlimited.
    .addColumn('monthly_quota', 'bigint')
    .addColumn('total_quota', 'bigint')
    .addColumn('reset_day', 'integer')
    .addColumn('max_ips', 'integer')
    .addColumn('expires_at', 'bigint')
    .addColumn('note', 'text')
    .addColumn('uuid', 'text', (col) => col.notNull())
    .addColumn('password', 'text', (col) => col.notNull())
    .addColumn('password16', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute()
  await db.schema.createIndex('users_plan_id').on('users').column('plan_id').execute()

  // Running totals that quota checks read, so a check never scans history.
  await db.schema
    .createTable('user_usage')
    .addColumn('user_id', 'integer', (col) => col.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('period_start', 'bigint', (col) => col.notNull())
    // Stored, not derived: a reset day changed mid-period moves the end of the running period only.
    .addColumn('period_end', 'bigint', (col) => col.notNull())
    .addColumn('period_up', 'bigint', (col) => col.notNull())
    .addColumn('period_down', 'bigint', (col) => col.notNull())
    .addColumn('total_up', 'bigint', (col) => col.notNull())
    .addColumn('total_down', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute()

  await db.schema
    .createTable('topups')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('period_start', 'bigint', (col) => col.notNull())
    .addColumn('bytes', 'bigint', (col) => col.notNull())
    .addColumn('note', 'text')
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute()
  await db.schema.createIndex('topups_user_period').on('topups').columns(['user_id', 'period_start']).execute()

  // Keyed by name, not id: a user's history outlives the user.
  await db.schema
    .createTable('events')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('at', 'bigint', (col) => col.notNull())
    .addColumn('user_name', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text')
    .addColumn('reason', 'text')
    .addColumn('actor', 'text', (col) => col.notNull())
    .execute()
  await db.schema.createIndex('events_user_at').on('events').columns(['user_name', 'at']).execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['events', 'topups', 'user_usage', 'users', 'plans', 'settings']) {
    await db.schema.dropTable(table).execute()
  }
}
