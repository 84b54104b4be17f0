import {randomBytes, scrypt, timingSafeEqual, type ScryptOptions} from 'node:crypto'

import type {Db} from '../db/open-database.js'
import {readSettings, writeSetting} from '../db/settings-repository.js'
import {deleteAllWebSessions} from '../db/web-sessions-repository.js'
import {invalidInput} from '../errors.js'

/** Kept beside the settings but not one of them: `sbq config get` must never list it. */
const key = 'web-admin-password'

export const minPasswordLength = 10
const maxPasswordBytes = 1024

/** scrypt cost: 2^15 × 8 × 128 bytes = 32 MiB and tens of ms per guess; the parameters are stored with each hash. */
const cost = {N: 2 ** 15, r: 8, p: 1}
const keyLength = 32

function derive(password: string, salt: Buffer, options: ScryptOptions & {N: number; r: number}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      keyLength,
      {...options, maxmem: 256 * options.N * options.r},
      (error, derived) => (error ? reject(error) : resolve(derived)),
    )
  })
}

/** `scrypt$N$r$p$salt$key`, salt and key in base64. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const derived = await derive(password, salt, cost)
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), derived.toString('base64')].join('$')
}

/** Whether the password matches a stored hash, compared in constant time; a malformed hash matches nothing. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  if (![N, r, p].every((value) => Number.isInteger(value) && value > 0) || N > 2 ** 20) return false
  const expected = Buffer.from(parts[5]!, 'base64')
  if (expected.length === 0 || Buffer.byteLength(password) > maxPasswordBytes) return false
  const derived = await derive(password, Buffer.from(parts[4]!, 'base64'), {N, r, p})
  return derived.length === expected.length && timingSafeEqual(derived, expected)
}

/** The password itself, or a one-line refusal (exit 2) when it is empty, too short or too long. */
export function assertAcceptablePassword(password: string): string {
  const hint = `give at least ${minPasswordLength} characters; a few words make a good one`
  if (password.length === 0) throw invalidInput('EMPTY_PASSWORD', 'admin password is empty', hint)
  const length = [...password].length
  if (length < minPasswordLength) {
    throw invalidInput('PASSWORD_TOO_SHORT', `admin password of ${length} characters is too short`, hint)
  }
  if (Buffer.byteLength(password) > maxPasswordBytes) {
    throw invalidInput(
      'PASSWORD_TOO_LONG',
      `admin password of ${Buffer.byteLength(password)} bytes is too long`,
      `give at most ${maxPasswordBytes} bytes`,
    )
  }
  return password
}

export async function adminPasswordHash(db: Db): Promise<string | null> {
  return (await readSettings(db)).get(key) ?? null
}

export interface SetPasswordResult {
  passwordSet: true
  /** Dashboard sessions that were logged out: a new password ends every session. */
  sessionsEnded: number
}

/** Stores the scrypt hash of a new dashboard password and ends every dashboard session. */
export async function setAdminPassword(db: Db, password: string, now: number): Promise<SetPasswordResult> {
  const hash = await hashPassword(assertAcceptablePassword(password))
  return db.transaction().execute(async (trx) => {
    await writeSetting(trx, key, hash)
    return {passwordSet: true, sessionsEnded: await deleteAllWebSessions(trx, now)}
  })
}
