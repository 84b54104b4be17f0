import {createHash, randomBytes} from 'node:crypto'

import type {Db} from '../db/open-database.js'
import {
  deleteExpiredWebSessions,
  deleteWebSession,
  findWebSession,
  insertWebSession,
  setWebSessionFlash,
  touchWebSession,
} from '../db/web-sessions-repository.js'
import {newCsrfToken} from './csrf.js'

/** Logged out after this long without a request. */
export const idleLifetimeMs = 12 * 3_600_000
/** Logged out this long after logging in, however busy. */
export const absoluteLifetimeMs = 7 * 24 * 3_600_000
/** A session's expiry moves forward at most this often, so reading pages does not write on every request. */
const touchEveryMs = 60_000

/** What the next page shows once: the outcome of a form. */
export interface Flash {
  kind: 'ok' | 'error'
  /** Already in the reader's language. */
  lines: string[]
  /** Shown apart: what went wrong beside a change that was made (a node that was not updated). */
  warnings?: string[]
}

export interface Session {
  idHash: string
  csrfToken: string
  expiresAt: number
  flash: Flash | null
}

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex')
}

/** A new session; the returned id goes in the cookie and is never stored. */
export async function createSession(db: Db, now: number): Promise<{id: string; session: Session}> {
  await deleteExpiredWebSessions(db, now)
  const id = randomBytes(32).toString('base64url')
  const session = {idHash: hashSessionId(id), csrfToken: newCsrfToken(), expiresAt: now + idleLifetimeMs, flash: null}
  await insertWebSession(db, {
    id_hash: session.idHash,
    csrf_token: session.csrfToken,
    created_at: now,
    last_seen_at: now,
    expires_at: session.expiresAt,
    flash: null,
  })
  return {id, session}
}

/** The live session for a cookie value, its idle expiry moved forward; null when unknown or expired. */
export async function loadSession(db: Db, id: string | undefined, now: number): Promise<Session | null> {
  if (id === undefined || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null
  const row = await findWebSession(db, hashSessionId(id), now)
  if (!row) return null
  let expiresAt = row.expires_at
  if (now - row.last_seen_at >= touchEveryMs) {
    expiresAt = Math.min(now + idleLifetimeMs, row.created_at + absoluteLifetimeMs)
    await touchWebSession(db, row.id_hash, now, expiresAt)
  }
  return {idHash: row.id_hash, csrfToken: row.csrf_token, expiresAt, flash: parseFlash(row.flash)}
}

export async function endSession(db: Db, session: Session): Promise<void> {
  await deleteWebSession(db, session.idHash)
}

/** Ends the session a cookie names, if it is one (a browser logging in again leaves no session behind). */
export async function endSessionOf(db: Db, id: string | undefined): Promise<void> {
  if (id !== undefined) await deleteWebSession(db, hashSessionId(id))
}

export async function setFlash(db: Db, session: Session, flash: Flash): Promise<void> {
  await setWebSessionFlash(db, session.idHash, JSON.stringify(flash))
}

/** The flash the session carries, cleared so it shows once. */
export async function takeFlash(db: Db, session: Session): Promise<Flash | null> {
  if (session.flash === null) return null
  await setWebSessionFlash(db, session.idHash, null)
  const flash = session.flash
  session.flash = null
  return flash
}

function parseFlash(text: string | null): Flash | null {
  if (text === null) return null
  try {
    const value = JSON.parse(text) as Flash
    return (value.kind === 'ok' || value.kind === 'error') && Array.isArray(value.lines) ? value : null
  } catch {
    return null
  }
}
