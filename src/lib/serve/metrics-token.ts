import {readSettings, writeSetting} from '../db/settings-repository.js'
import type {Db} from '../db/open-database.js'
import {hashInformToken, newInformToken} from '../inform/inform-token.js'

/** Kept beside the settings but not one of them: `sbq config get` must never list it. */
const key = 'metrics-token-sha256'

export async function metricsTokenHash(db: Db): Promise<string | null> {
  return (await readSettings(db)).get(key) ?? null
}

/** A new /metrics bearer token; only its hash is stored, so this is the one time it can be shown. */
export async function rotateMetricsToken(db: Db): Promise<string> {
  const token = newInformToken()
  await writeSetting(db, key, hashInformToken(token))
  return token
}
