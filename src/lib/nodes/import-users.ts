import type {Context} from '../context.js'
import {recordEvents} from '../db/events-repository.js'
import type {Db} from '../db/open-database.js'
import {findUserRecord, insertUser, nameIgnoringCase} from '../db/users-repository.js'
import {is2022Method, mergeImportedUsers, type MergedImportedUser} from '../proxies/shared/user-lists.js'
import {conflict} from '../errors.js'
import type {UserCredentials} from '../proxies/proxy-driver.js'
import {generateCredentials} from '../users/credentials.js'
import {assertUserName} from '../domain/user-name.js'
import {periodAt} from '../domain/periods.js'
import {defaultResetRule} from '../domain/reset-rules.js'
import type {ConfigInbound} from '../proxies/proxy-driver.js'

export interface ImportResult {
  added: string[]
  /** Names already in sbq: left as they are. */
  existing: string[]
  /** Names no proxy-wide sbq name can be (they stay unmanaged on the proxy). */
  skipped: string[]
}

const fieldNames: Record<keyof UserCredentials, string> = {
  uuid: 'uuids',
  password: 'passwords',
  password16: '16-byte keys',
}

const quoted = (tags: readonly string[]): string => tags.map((tag) => `"${tag}"`).join(', ')

/**
 * sbq gives a user one set of credentials on every inbound it manages; a user whose secrets differ between inbounds
 * would lose all but one of them on the next sync, so the import stops instead of choosing.
 */
function assertOneCredentialSet(found: MergedImportedUser): void {
  const field = found.conflicts[0]
  if (field === undefined) return
  throw conflict(
    'IMPORT_CREDENTIALS_DIFFER',
    `user "${found.name}" has different ${fieldNames[field]} on inbounds ${quoted(found.fieldInbounds[field] ?? [])}, and sbq gives a user the same on every inbound it manages`,
    `give "${found.name}" one value on those inbounds in the config, or leave all but one of them out with --inbound, then run node add again`,
  )
}

function isBase64Key(value: string, bytes: number): boolean {
  const decoded = Buffer.from(value, 'base64')
  return decoded.length === bytes && decoded.toString('base64') === value
}

/** Every managed user lands on every managed inbound: an imported secret must also be a valid 2022 key there. */
function assertValidKeys(found: MergedImportedUser, inbounds: readonly ConfigInbound[]): void {
  for (const inbound of inbounds) {
    if (inbound.protocol !== 'shadowsocks' || !is2022Method(inbound.method)) continue
    const short = inbound.method?.toLowerCase() === '2022-blake3-aes-128-gcm'
    const field = short ? 'password16' : 'password'
    const bytes = short ? 16 : 32
    const value = found.credentials[field]
    if (value === undefined || isBase64Key(value, bytes)) continue
    const source = found.fieldInbounds[field]?.[0] ?? ''
    throw conflict(
      'IMPORT_KEY_INVALID',
      `user "${found.name}" has a password on inbound "${source}" that is no ${bytes}-byte key for inbound "${inbound.tag}" (${inbound.method})`,
      `give "${found.name}" a ${bytes}-byte base64 key (openssl rand -base64 ${bytes}) on "${source}", or leave one of the two out with --inbound, then run node add again`,
    )
  }
}

/**
 * Adopts the users already in a proxy's config with their existing credentials and no quota, so an operator with a
 * running server starts in one command. A user found in several inbounds becomes one user. An import that sbq cannot
 * keep whole is refused and nothing is stored (`node add` is one transaction).
 */
export async function importUsers(db: Db, inbounds: ConfigInbound[], context: Context): Promise<ImportResult> {
  const result: ImportResult = {added: [], existing: [], skipped: []}
  const period = periodAt(context.now, defaultResetRule, context.timeZone)
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
    assertOneCredentialSet(found)
    assertValidKeys(found, inbounds)
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
    result.added.map((name) => ({
      at: context.now,
      user_name: name,
      kind: 'created',
      from_status: null,
      to_status: 'active' as const,
      reason: 'imported from proxy config',
      actor: context.actor,
    })),
  )
  return result
}
