import {readSettings, writeSetting} from '../db/settings-repository.js'
import type {Db} from '../db/open-database.js'
import {hashInformToken, newInformToken} from '../inform/inform-token.js'

/** Kept beside the settings but not one of them: `sbq config get` must never list it. */
const key = 'metrics-token-sha256'

export async function metricsTokenHash(db: Db): Promise<string | null> {
  return (await readSettings(db)).get(key) ?? null
}

export interface MetricsToken {
  token: string
  hash: string
}

/** A new /metrics bearer token, not yet stored: `sbq serve` stores it only once it listens, and then shows it. */
export function newMetricsToken(): MetricsToken {
  const token = newInformToken()
  return {token, hash: hashInformToken(token)}
}

/** Only the hash is stored, so storing is the one time the token can be shown. */
export async function storeMetricsToken(db: Db, token: MetricsToken): Promise<void> {
  await writeSetting(db, key, token.hash)
}

export async function rotateMetricsToken(db: Db): Promise<string> {
  const token = newMetricsToken()
  await storeMetricsToken(db, token)
  return token.token
}
