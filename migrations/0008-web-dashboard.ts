import type {Kysely} from 'kysely'

// The web dashboard's logins. The admin password's scrypt hash is kept in settings (like the /metrics token hash);
// sessions live here so a restart of `sbq serve` (a deploy, systemd's Restart=) does not log everyone out.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('web_sessions')
    // sha256 of the random cookie value: a copy of the database logs nobody in.
    .addColumn('id_hash', 'text', (col) => col.primaryKey())
    // The session's CSRF token, sent back in every form.
    .addColumn('csrf_token', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('last_seen_at', 'bigint', (col) => col.notNull())
    // Idle expiry, moved forward as the session is used; never past created_at plus the absolute lifetime.
    .addColumn('expires_at', 'bigint', (col) => col.notNull())
    // One message for the next page (Post/Redirect/Get), JSON; cleared when shown.
    .addColumn('flash', 'text')
    .execute()
  await db.schema.createIndex('web_sessions_expires_at').on('web_sessions').column('expires_at').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('web_sessions').execute()
}
