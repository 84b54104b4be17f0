import {sql, type Kysely} from 'kysely'

// Expiry that starts on first use (`--expires 30d --from first-use`): the duration as the operator typed it, kept until
// the user's first counted byte (or the deadline first_use_by) turns it into expires_at and clears it. Few users wait
// at once, and every pull asks for them: a partial index keeps that a lookup of those few.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('expires_after', 'text').execute()
  await db.schema.alterTable('users').addColumn('first_use_by', 'bigint').execute()
  await db.schema
    .createIndex('users_first_use_pending')
    .on('users')
    .column('id')
    .where(sql.ref('expires_after'), 'is not', null)
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_first_use_pending').execute()
  await db.schema.alterTable('users').dropColumn('first_use_by').execute()
  await db.schema.alterTable('users').dropColumn('expires_after').execute()
}
