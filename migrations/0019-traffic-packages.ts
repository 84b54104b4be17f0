import {sql, type Kysely} from 'kysely'

// Traffic packages: bytes bought apart from any period (`quota topup NAME 50G --valid 90d`), spent after the period's
// allowance, kept across resets until used up (used = bytes) or past valid_until. A package goes with its user.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('traffic_packages')
    .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
    .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
    .addColumn('bytes', 'bigint', (col) => col.notNull())
    .addColumn('used', 'bigint', (col) => col.notNull().defaultTo(0))
    .addColumn('valid_until', 'bigint', (col) => col.notNull())
    .addColumn('note', 'text')
    .addColumn('actor', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('used_up_at', 'bigint')
    .execute()
  await db.schema.createIndex('traffic_packages_user').on('traffic_packages').column('user_id').execute()
  // Every pull asks for the packages that can still be spent: few rows, found without reading the spent ones.
  await db.schema
    .createIndex('traffic_packages_open')
    .on('traffic_packages')
    .column('user_id')
    .where(sql.ref('used_up_at'), 'is', null)
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('traffic_packages').execute()
}
