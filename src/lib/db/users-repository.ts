import {sql} from 'kysely'
import {atSchemaBeforeNameClashCheck} from './migrate.js'

import type {UserCredentials} from '../domain/traffic.js'
import type {UserFacts} from '../domain/user.js'
import type {Period} from '../domain/periods.js'
import type {OpenPackage} from '../domain/traffic-packages.js'
import {openPackagesByUser} from './packages-repository.js'
import {selectJsonRows} from './json-rows.js'
import type {Db} from './open-database.js'
import type {NewUser, TopupRow, UserRow, UserStatus, UserUpdate} from './schema.js'

/**
 * A user with what is needed to judge them: their plan's limits, running usage and this period's top-ups. Not their
 * credentials: every check reads every user, and only a node that changes needs secrets (see `readCredentials`).
 */
export type UserRecord = Omit<
  UserRow,
  'uuid' | 'password' | 'password16' | 'inbounds' | 'reset' | 'reset_day' | 'expires_after' | 'first_use_by'
> &
  UserFacts

/** Users with their running totals (`u`) and their plan (`p`, null columns without one): what limits are read from. */
export function usersWithUsageAndPlan(db: Db) {
  return db
    .selectFrom('users')
    .innerJoin('user_usage as u', 'u.user_id', 'users.id')
    .leftJoin('plans as p', 'p.id', 'users.plan_id')
}

function selectUserRecords(db: Db) {
  return (
    usersWithUsageAndPlan(db)
      .select([
        'users.id',
        'users.name',
        'users.status',
        'users.status_reason',
        'users.plan_id',
        'users.monthly_quota',
        'users.total_quota',
        'users.max_ips',
        'users.expires_at',
        'users.note',
        'users.created_at',
        'users.updated_at',
        'p.name as plan_name',
        'p.monthly_quota as plan_monthly_quota',
        'p.total_quota as plan_total_quota',
        'p.max_ips as plan_max_ips',
        'u.period_start',
        'u.period_end',
        'u.period_up',
        'u.period_down',
        'u.total_up',
        'u.total_down',
      ])
      // The inbound choice and raw bytes came after the schema `user show` and `user remove` may run on while names
      // clash.
      .$if(!atSchemaBeforeNameClashCheck(db), (query) =>
        query.select([
          'users.inbounds',
          'p.inbounds as plan_inbounds',
          'users.reset',
          'p.reset as plan_reset',
          'users.expires_after',
          'users.first_use_by',
          'u.raw_period_up',
          'u.raw_period_down',
          'u.raw_total_up',
          'u.raw_total_down',
        ]),
      )
  )
}

/**
 * Top-ups per user and period, read apart from the users: there are few of them, and joining a grouped subquery to
 * every user costs more than the whole rest of the read.
 */
export async function topupsByPeriod(db: Db, userIds?: readonly number[]): Promise<Map<string, number>> {
  let query = db
    .selectFrom('topups')
    .innerJoin('users', 'users.id', 'topups.user_id')
    .select(['users.name', 'topups.period_start'])
    .select((eb) => eb.fn.sum<number>('topups.bytes').as('bytes'))
    .groupBy(['users.name', 'topups.period_start'])
  if (userIds !== undefined) query = query.where('topups.user_id', 'in', userIds)
  return new Map((await query.execute()).map((row) => [topupKey(row.name, row.period_start), Number(row.bytes)]))
}

/** A user's period in topupsByPeriod's map: by name, so a report that reads users without their ids can look it up. */
export function topupKey(name: string, periodStart: number): string {
  return `${name} ${periodStart}`
}

/** Sets each row's `period_topups`: what was bought for its stored period. */
export function withTopups<T extends {name: string; period_start: number}>(
  rows: T[],
  topups: Map<string, number>,
): Array<T & {period_topups: number}> {
  for (const row of rows)
    (row as T & {period_topups: number}).period_topups =
      topups.size === 0 ? 0 : (topups.get(topupKey(row.name, row.period_start)) ?? 0)
  return rows as Array<T & {period_topups: number}>
}

/** Ids per `IN (...)` list: well under every SQLite build's limit on bound parameters. */
const idsPerQuery = 500

export async function findUserRecord(db: Db, name: string): Promise<UserRecord | undefined> {
  const row = await selectUserRecords(db).where('users.name', '=', name).executeTakeFirst()
  return row && (await withPackages(db, withTopups([row], await topupsByPeriod(db, [row.id])), [row.id]))[0]
}

/** Sets each row's open traffic packages (none at a schema before them). */
async function withPackages<T extends {id: number}>(
  db: Db,
  rows: T[],
  userIds?: readonly number[],
): Promise<Array<T & {packages?: OpenPackage[]}>> {
  if (atSchemaBeforeNameClashCheck(db) || rows.length === 0) return rows
  const packages = await openPackagesByUser(db, userIds)
  if (packages.size === 0) return rows
  for (const row of rows) {
    const own = packages.get(row.id)
    if (own !== undefined) (row as T & {packages?: OpenPackage[]}).packages = own
  }
  return rows
}

/**
 * The stored spelling of a user named `name` without regard to case, if any. sbq names are ASCII, so SQLite's NOCASE
 * (ASCII-only folding, the collation of the users_name_nocase index) folds them as the proxies do.
 */
export async function nameIgnoringCase(db: Db, name: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('users')
    .select('name')
    .where(sql<boolean>`name = ${name} COLLATE NOCASE`)
    .executeTakeFirst()
  return row?.name
}

/** The users with these ids, in the order given (ids that do not exist are left out). */
export async function findUserRecordsById(db: Db, ids: readonly number[]): Promise<UserRecord[]> {
  if (ids.length === 0) return []
  const found: Array<Omit<UserRecord, 'period_topups'>> = []
  for (let offset = 0; offset < ids.length; offset += idsPerQuery)
    found.push(
      ...(await selectUserRecords(db)
        .where('users.id', 'in', ids.slice(offset, offset + idsPerQuery))
        .execute()),
    )
  const few = ids.length <= idsPerQuery ? ids : undefined
  const rows = await withPackages(db, withTopups(found, await topupsByPeriod(db, few)), few)
  const byId = new Map(rows.map((row) => [row.id, row]))
  return ids.flatMap((id) => byId.get(id) ?? [])
}

/** Every user (or those with a status), in name order. */
export async function listUserRecords(db: Db, filter: {status?: UserStatus} = {}): Promise<UserRecord[]> {
  let query = selectUserRecords(db)
  if (filter.status) query = query.where('users.status', '=', filter.status)
  const rows = await withPackages(db, withTopups(await selectJsonRows(db, query), await topupsByPeriod(db)))
  // Sorted here, in code-unit order like SQLite's: ordering in SQL walks the name index and fetches each row apart.
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** Every user's name and status, and nothing else: what the nodes must carry. */
export async function listUserStatuses(db: Db): Promise<Array<{name: string; status: UserStatus}>> {
  return selectJsonRows(db, db.selectFrom('users').select(['name', 'status']))
}

/** The stored inbound choices of users who have one (their own or their plan's): few, usually none. */
export async function inboundChoices(
  db: Db,
): Promise<Array<{name: string; inbounds: string | null; plan_inbounds: string | null}>> {
  if (atSchemaBeforeNameClashCheck(db)) return []
  return db
    .selectFrom('users')
    .leftJoin('plans as p', 'p.id', 'users.plan_id')
    .select(['users.name', 'users.inbounds', 'p.inbounds as plan_inbounds'])
    .where((eb) => eb.or([eb('users.inbounds', 'is not', null), eb('p.inbounds', 'is not', null)]))
    .execute()
}

/** Users with a max-ips (their own or their plan's) who are not disabled: whose online IPs a check counts. */
export async function namesWithMaxIps(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('users')
    .leftJoin('plans as p', 'p.id', 'users.plan_id')
    .select('users.name')
    .where('users.status', '<>', 'disabled')
    .where((eb) => eb(eb.fn.coalesce('users.max_ips', 'p.max_ips'), 'is not', null))
    .execute()
  return rows.map((row) => row.name)
}

/** What makes a user worth judging in a check beyond the status rules: alert thresholds and IP counts. */
export interface JudgeWatch {
  now: number
  /** Names whose online IPs some node reported. */
  ipsSeen: readonly string[]
  /** When alerts go somewhere: the lowest threshold (percent of the allowance) and the end of the expiry window. */
  alerts: {lowestPercent: number | null; expiringBefore: number | null} | null
}

/**
 * The ids of the users a check must look at, in name order: every user whose status could change now, and every user an alert
 * could be due for. A superset, decided in SQL with both a user's own limits and their plan's, so that the exact
 * rules (in decide-status and due-alerts) run on a handful of users instead of all of them.
 */
export async function usersToJudge(db: Db, watch: JudgeWatch): Promise<number[]> {
  const rows = await usersWithUsageAndPlan(db)
    .select('users.id')
    .where('users.status', '<>', 'disabled')
    .where((eb) => {
      // Kysely does not bracket nested operators: without parens `a + b * 100` multiplies b alone.
      const periodUsed = eb.parens('u.period_up', '+', eb.ref('u.period_down'))
      const totalUsed = eb.parens('u.total_up', '+', eb.ref('u.total_down'))
      const crossed = (
        used: typeof periodUsed,
        quota: 'users.monthly_quota' | 'p.monthly_quota' | 'users.total_quota' | 'p.total_quota',
        percent: number,
      ) => eb.and([eb(quota, '>', 0), eb(eb(used, '*', 100), '>=', eb(eb.ref(quota), '*', percent))])
      const reasons = [
        eb('users.status', '<>', 'active'),
        eb('users.expires_at', '<=', watch.now),
        crossed(totalUsed, 'users.total_quota', 100),
        crossed(totalUsed, 'p.total_quota', 100),
        crossed(periodUsed, 'users.monthly_quota', 100),
        crossed(periodUsed, 'p.monthly_quota', 100),
      ]
      // Many names seen online: every user with a max-ips is then cheaper to list than a huge IN list.
      if (watch.ipsSeen.length > idsPerQuery)
        reasons.push(eb(eb.fn.coalesce('users.max_ips', 'p.max_ips'), 'is not', null))
      else if (watch.ipsSeen.length > 0) reasons.push(eb('users.name', 'in', watch.ipsSeen))
      const percent = watch.alerts?.lowestPercent
      if (percent != null)
        reasons.push(
          crossed(periodUsed, 'users.monthly_quota', percent),
          crossed(periodUsed, 'p.monthly_quota', percent),
        )
      const expiring = watch.alerts?.expiringBefore
      if (expiring != null) reasons.push(eb('users.expires_at', '<=', expiring))
      return eb.or(reasons)
    })
    .orderBy('users.name')
    .execute()
  return rows.map((row) => row.id)
}

/** Credentials by user name, for the users given (all when no names). */
export async function readCredentials(db: Db, names?: readonly string[]): Promise<Map<string, UserCredentials>> {
  let query = db.selectFrom('users').select(['name', 'uuid', 'password', 'password16'])
  if (names !== undefined) query = query.where('name', 'in', names)
  const rows = names !== undefined && names.length === 0 ? [] : await selectJsonRows(db, query)
  return new Map(rows.map((row) => [row.name, {uuid: row.uuid, password: row.password, password16: row.password16}]))
}

export async function insertUser(db: Db, user: NewUser, period: Period): Promise<UserRow> {
  const row = await db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow()
  await db
    .insertInto('user_usage')
    .values({
      user_id: row.id,
      period_start: period.start,
      period_end: period.end,
      period_up: 0,
      period_down: 0,
      total_up: 0,
      total_down: 0,
      updated_at: user.created_at,
    })
    .execute()
  return row
}

export async function updateUser(db: Db, id: number, changes: UserUpdate): Promise<void> {
  await db.updateTable('users').set(changes).where('id', '=', id).execute()
}

/**
 * Sets a user's status only if it is still `from`, the status it was judged on: one someone changed since (say, a hand
 * disable) is left as they set it. Returns whether it changed.
 */
export async function updateStatusIfStill(
  db: Db,
  id: number,
  from: UserStatus,
  change: {status: UserStatus; status_reason: string | null; updated_at: number},
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set(change)
    .where('id', '=', id)
    .where('status', '=', from)
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}

export async function deleteUser(db: Db, id: number): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute()
}

/** Moves a user's running usage into a new period: the old period's counts stay in history, the new one starts at 0. */
/**
 * Starts a new period counting from zero, only if the stored one still starts at `from`. Two hosts may find the same
 * period over at once; on a server database the second one's update waits for the first and then, finding the new
 * period, changes nothing, instead of zeroing bytes the first one has already added to it.
 */
export async function startUsagePeriod(
  db: Db,
  userId: number,
  from: number,
  period: Period,
  now: number,
): Promise<void> {
  await startUsagePeriods(db, [userId], from, period, now)
}

/** startUsagePeriod for many users whose stored period starts at `from`, a few hundred per statement. */
export async function startUsagePeriods(
  db: Db,
  userIds: readonly number[],
  from: number,
  period: Period,
  now: number,
): Promise<void> {
  for (let offset = 0; offset < userIds.length; offset += idsPerQuery)
    await db
      .updateTable('user_usage')
      .set({
        period_start: period.start,
        period_end: period.end,
        period_up: 0,
        period_down: 0,
        raw_period_up: 0,
        raw_period_down: 0,
        updated_at: now,
      })
      .where('user_id', 'in', userIds.slice(offset, offset + idsPerQuery))
      .where('period_start', '=', from)
      .execute()
}

/** Starts the running period's count from zero; its dates and the totals stay. */
export async function zeroPeriodUsage(db: Db, userId: number, now: number): Promise<void> {
  await db
    .updateTable('user_usage')
    .set({period_up: 0, period_down: 0, raw_period_up: 0, raw_period_down: 0, updated_at: now})
    .where('user_id', '=', userId)
    .execute()
}

/** The running period's end moved (the reset day changed); what it counted stays. */
export async function setUsagePeriodEnd(db: Db, userId: number, end: number, now: number): Promise<void> {
  await db.updateTable('user_usage').set({period_end: end, updated_at: now}).where('user_id', '=', userId).execute()
}

export async function insertTopup(db: Db, topup: Omit<TopupRow, 'id'>): Promise<void> {
  await db.insertInto('topups').values(topup).execute()
}

export async function listTopups(db: Db, userId: number): Promise<TopupRow[]> {
  return db.selectFrom('topups').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute()
}

/** Users whose expiry waits for their first byte (a partial index keeps this a lookup of those few). */
export async function usersWaitingForFirstUse(
  db: Db,
): Promise<Array<{id: number; name: string; expires_after: string; first_use_by: number | null}>> {
  const rows = await db
    .selectFrom('users')
    .select(['id', 'name', 'expires_after', 'first_use_by'])
    .where('expires_after', 'is not', null)
    .execute()
  return rows.map((row) => ({...row, expires_after: row.expires_after!}))
}

/** Turns a waiting first-use expiry into a stored one; a user whose clock another run already started is left alone. */
export async function startExpiryClock(db: Db, id: number, expiresAt: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({expires_at: expiresAt, expires_after: null, first_use_by: null, updated_at: now})
    .where('id', '=', id)
    .where('expires_after', 'is not', null)
    .executeTakeFirst()
  return result.numUpdatedRows > 0n
}
