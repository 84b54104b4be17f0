import type {Db} from './open-database.js'
import type {WebSessionRow} from './schema.js'

export async function insertWebSession(db: Db, session: WebSessionRow): Promise<void> {
  await db.insertInto('web_sessions').values(session).execute()
}

/** The session with this id hash, if it has not expired. */
export async function findWebSession(db: Db, idHash: string, now: number): Promise<WebSessionRow | undefined> {
  return db
    .selectFrom('web_sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('expires_at', '>', now)
    .executeTakeFirst()
}

export async function touchWebSession(db: Db, idHash: string, lastSeenAt: number, expiresAt: number): Promise<void> {
  await db
    .updateTable('web_sessions')
    .set({last_seen_at: lastSeenAt, expires_at: expiresAt})
    .where('id_hash', '=', idHash)
    .execute()
}

export async function setWebSessionFlash(db: Db, idHash: string, flash: string | null): Promise<void> {
  await db.updateTable('web_sessions').set({flash}).where('id_hash', '=', idHash).execute()
}

export async function deleteWebSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('web_sessions').where('id_hash', '=', idHash).execute()
}

export async function deleteExpiredWebSessions(db: Db, now: number): Promise<void> {
  await db.deleteFrom('web_sessions').where('expires_at', '<=', now).execute()
}

/** Ends every session (a new admin password); returns how many were live. */
export async function deleteAllWebSessions(db: Db, now: number): Promise<number> {
  const live = await db
    .selectFrom('web_sessions')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow()
  await db.deleteFrom('web_sessions').execute()
  return Number(live.count)
}
