import type {Context} from '../context.js'
import {recordEvents} from '../db/events-repository.js'
import type {Db} from '../db/open-database.js'
import {findUserRecord, insertUser, nameIgnoringCase} from '../db/users-repository.js'
import {mergeImportedUsers, type MergedImportedUser} from '../config-file/user-lists.js'
import {invalidInput, type SbqError} from '../errors.js'
import {generateCredentials} from '../users/credentials.js'
import {assertUserName} from '../users/user-name.js'
import {periodAt} from '../quotas/periods.js'
import {defaultResetDay} from '../quotas/limits.js'
import type {ConfigInbound} from './node-config.js'

export interface ImportResult {
  added: string[]
  /** Names already in sbq: left as they are. */
  existing: string[]
  /** Names no proxy-wide sbq name can be (they stay unmanaged on the proxy). */
  skipped: string[]
}

/**
 * Adopts the users already in a proxy's config with their existing credentials and no quota, so an operator with a
 * running server starts in one command. A user found in several inbounds becomes one user, with one set of
 * credentials: one whose inbounds give different ones is refused, and nothing is imported, because keeping any one
 * value would rewrite the other inbounds with it, locking the user's clients out (or writing a key of the wrong
 * length for a 2022 method, which sing-box refuses).
 */
export async function importUsers(db: Db, inbounds: ConfigInbound[], context: Context): Promise<ImportResult> {
  const result: ImportResult = {added: [], existing: [], skipped: []}
  const period = periodAt(context.now, defaultResetDay, context.timeZone)
  for (const found of mergeImportedUsers(inbounds)) {
    try {
      assertUserName(found.name)
    } catch {
      result.skipped.push(found.name)
      continue
    }
    if (await findUserRecord(db, found.name)) {
      result.existing.push(found.name)
      continue
    }
    // Another spelling of a user sbq has is another proxy user, which sbq's names cannot tell apart.
    if ((await nameIgnoringCase(db, found.name)) !== undefined) {
      result.skipped.push(found.name)
      continue
    }
    if (found.conflicts.length > 0) throw credentialsDiffer(found)
    const generated = generateCredentials()
    await insertUser(
      db,
      {
        name: found.name,
        status: 'active',
        status_reason: null,
        plan_id: null,
        monthly_quota: null,
        total_quota: null,
        reset_day: null,
        max_ips: null,
        expires_at: null,
        note: null,
        uuid: found.credentials.uuid ?? generated.uuid,
        password: found.credentials.password ?? generated.password,
        password16: found.credentials.password16 ?? generated.password16,
        created_at: context.now,
        updated_at: context.now,
      },
      period,
    )
    result.added.push(found.name)
  }
  await recordEvents(
    db,
    result.added.map((name) => ({at: context.now, user_name: name, kind: 'created', from_status: null, to_status: 'active' as const, reason: 'imported from proxy config', actor: context.actor})),
  )
  return result
}

const fieldNames: Record<keyof MergedImportedUser['credentials'], string> = {uuid: 'uuids', password: 'passwords', password16: '16-byte keys'}

function credentialsDiffer(user: MergedImportedUser): SbqError {
  const fields = user.conflicts.map((field) => fieldNames[field]).join(' and ')
  const inbounds = user.inbounds.map((tag) => `"${tag}"`).join(', ')
  return invalidInput(
    'IMPORT_CREDENTIALS_DIFFER',
    `user "${user.name}" has different ${fields} in inbounds ${inbounds}, and sbq keeps one set of credentials per user`,
    `give "${user.name}" the same credentials on every inbound, or leave the others out with --inbound; sbq imported nothing`,
  )
}
