import type {Db} from './open-database.js'
import type {NewUser, TopupRow, UserRow, UserStatus, UserUpdate} from './schema.js'

/** A user with what is needed to judge them: their plan's limits, running usage and this period's top-ups. */
export interface UserRecord extends UserRow {
  plan_name: string | null
  plan_monthly_quota: number | null
  plan_total_quota: number | null
  plan_reset_day: number | null
  plan_max_ips: number | null
  period_start: number
  period_up: number
  period_down: number
  total_up: number
  total_down: number
  period_topups: number
}

function selectUserRecords(db: Db) {
  const topups = db
    .selectFrom('topups')
    .select(['user_id', 'period_start'])
    .select((eb) => eb.fn.sum<number>('bytes').as('bytes'))
    .groupBy(['user_id', 'period_start'])
    .as('t')
  return db
    .selectFrom('users')
    .innerJoin('user_usage as u', 'u.user_id', 'users.id')
    .leftJoin('plans as p', 'p.id', 'users.plan_id')
    .leftJoin(topups, (join) => join.onRef('t.user_id', '=', 'users.id').onRef('t.period_start', '=', 'u.period_start'))
    .selectAll('users')
    .select([
      'p.name as plan_name',
      'p.monthly_quota as plan_monthly_quota',
      'p.total_quota as plan_total_quota',
      'p.reset_day as plan_reset_day',
      'p.max_ips as plan_max_ips',
      'u.period_start',
      'u.period_up',
      'u.period_down',
      'u.total_up',
      'u.total_down',
    ])
    .select((eb) => eb.fn.coalesce('t.bytes', eb.lit(0)).as('period_topups'))
}

export async function findUserRecord(db: Db, name: string): Promise<UserRecord | undefined> {
  const row = await selectUserRecords(db).where('users.name', '=', name).executeTakeFirst()
  return row && normalise(row)
}

export async function listUserRecords(db: Db, filter: {status?: UserStatus} = {}): Promise<UserRecord[]> {
  let query = selectUserRecords(db).orderBy('users.name')
  if (filter.status) query = query.where('users.status', '=', filter.status)
  return (await query.execute()).map(normalise)
}

function normalise<T extends {period_topups: unknown}>(row: T): T & {period_topups: number} {
  return {...row, period_topups: Number(row.period_topups)}
}

export async function insertUser(db: Db, user: NewUser, periodStart: number): Promise<UserRow> {
  const row = await db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow()
  await db
    .insertInto('user_usage')
    .values({user_id: row.id, period_start: periodStart, period_up: 0, period_down: 0, total_up: 0, total_down: 0, updated_at: user.created_at})
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
export async function startUsagePeriod(db: Db, userId: number, periodStart: number, now: number): Promise<void> {
  await db
    .updateTable('user_usage')
    .set({period_start: periodStart, period_up: 0, period_down: 0, updated_at: now})
    .where('user_id', '=', userId)
    .execute()
}

export async function insertTopup(db: Db, topup: Omit<TopupRow, 'id'>): Promise<void> {
  await db.insertInto('topups').values(topup).execute()
}

export async function listTopups(db: Db, userId: number): Promise<TopupRow[]> {
  return db.selectFrom('topups').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').execute()
}
