import type {Kysely} from 'kysely'

// A user's subscription URL ends with a random token. The token is kept so `sbq user link` can show the URL again;
// requests are matched by its sha256, so an index lookup compares hashes, never the secret itself.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('subscription_tokens')
    .addColumn('user_id', 'integer', (col) => col.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('token', 'text', (col) => col.notNull())
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('subscription_tokens').execute()
}
