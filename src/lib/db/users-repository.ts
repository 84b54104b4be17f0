import type {UserCredentials} from '../proxies/proxy-api.js'
import type {Period} from '../quotas/periods.js'
import type {Db} from './open-database.js'
import type {NewUser, TopupRow, UserRow, UserStatus, UserUpdate} from './schema.js'

/**
 * A user with what is needed to judge them: their plan's limits, running usage and this period's top-ups. Not their
 * credentials: every check reads every user, and only a node that changes needs secrets (see `readCredentials`).
 */
export interface UserRecord extends Omit<UserRow, 'uuid' | 'password' | 'password16'> {
  plan_name: string | null
  plan_monthly_quota: number | null
  plan_total_quota: number | null
  plan_reset_day: number | null
  plan_max_ips: number | null
  period_start: number
  period_end: number
  period_up: number
  period_down: number
  total_up: number
  total_down: number
  /** Top-ups bought for the stored period. */
  period_topups: number
}

function selectUserRecords(db: Db) {
  return db
    .selectFrom('users')
    .innerJoin('user_usage as u', 'u.user_id', 'users.id')
    .leftJoin('plans as p', 'p.id', 'users.plan_id')
    .select([
      'users.id',
      'users.name',
      'users.status',
      'users.status_reason',
      'users.plan_id',
      'users.monthly_quota',
      'users.total_quota',
      'users.reset_day',
      'users.max_ips',
      'users.expires_at',
      'users.note',
      'users.created_at',
      'users.updated_at',
      'p.name as plan_name',
      'p.monthly_quota as plan_monthly_quota',
      'p.total_quota as plan_total_quota',
      'p.reset_day as plan_reset_day',
      'p.max_ips as plan_max_ips',
      'u.period_start',
      'u.period_end',
      'u.period_up',
      'u.period_down',
      'u.total_up',
      'u.total_down',
    ])
}

/**
 * Top-ups per user and period, read apart from the users: there are few of them, and joining a grouped subquery to
 * every user costs more than the whole rest of the read.
 */
async function topupsByPeriod(db: Db, userIds?: readonly number[]): Promise<Map<string, number>> {
  let query = db.selectFrom('topups').select(['user_id', 'period_start']).select((eb) => eb.fn.sum<number>('bytes').as('bytes')).groupBy(['user_id', 'period_start'])
  if (userIds !== undefined) query = query.where('user_id', 'in', userIds)
  return new Map((await query.execute()).map((row) => [`${row.user_id} ${row.period_start}`, Number(row.bytes)]))
}

function withTopups<T extends {id: number; period_start: number}>(rows: T[], topups: Map<string, number>): Array<T & {period_topups: number}> {
  for (const row of rows) (row as T & {period_topups: number}).period_topups = topups.get(`${row.id} ${row.period_start}`) ?? 0
  return rows as Array<T & {period_topups: number}>
}

export async function findUserRecord(db: Db, name: string): Promise<UserRecord | undefined> {
  const row = await selectUserRecords(db).where('users.name', '=', name).executeTakeFirst()
  return row && withTopups([row], await topupsByPeriod(db, [row.id]))[0]
}

/** The users with these ids, in the order given (ids that do not exist are left out). */
export async function findUserRecordsById(db: Db, ids: readonly number[]): Promise<UserRecord[]> {
  if (ids.length === 0) return []
  const rows = withTopups(await selectUserRecords(db).where('users.id', 'in', ids).execute(), await topupsByPeriod(db, ids))
  const byId = new Map(rows.map((row) => [row.id, row]))
  return ids.flatMap((id) => byId.get(id) ?? [])
}

/** Every user (or those with a status), in name order. */
export async function listUserRecords(db: Db, filter: {status?: UserStatus} = {}): Promise<UserRecord[]> {
  let query = selectUserRecords(db)
  if (filter.status) query = query.where('users.status', '=', filter.status)
  const rows = withTopups(await query.execute(), await topupsByPeriod(db))
  // Sorted here, in code-unit order like SQLite's: ordering in SQL walks the name index and fetches each row apart.
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** Credentials by user name, for the users given (all when no names). */
export async function readCredentials(db: Db, names?: readonly string[]): Promise<Map<string, UserCredentials>> {
  let query = db.selectFrom('users').select(['name', 'uuid', 'password', 'password16'])
  if (names !== undefined) query = query.where('name', 'in', names)
  const rows = names !== undefined && names.length === 0 ? [] : await query.execute()
  return new Map(rows.map((row) => [row.name, {uuid: row.uuid, password: row.password, password16: row.password16}]))
}

export async function insertUser(db: Db, user: NewUser, period: Period): Promise<UserRow> {
  const row = await db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow()
  await db
    .insertInto('user_usage')
    .values({user_id: row.id, period_start: period.start, period_end: period.end, period_up: 0, period_down: 0, total_up: 0, total_down: 0, updated_at: user.created_at})
    .execute()
  return row
}

export async function updateUser(db: Db, id: number, changes: UserUpdate): Promise<void> {
  await db.updateTable('users').set(changes).where('id', '=', id).execute()
}

export async function deleteUser(db: Db, id: number): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute()
}

/** Moves a user's running usage into a new period: the old period's counts stay in history, the new one starts at 0. */
export async function startUsagePeriod(db: Db, userId: number, period: Period, now: number): Promise<void> {
  await db
    .updateTable('user_usage')
    .set({period_start: period.start, period_end: period.end, period_up: 0, period_down: 0, updated_at: now})
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
