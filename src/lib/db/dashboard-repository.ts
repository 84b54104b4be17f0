import {sql, type ExpressionBuilder, type SqlBool} from 'kysely'

import type {Db} from './open-database.js'
import {currentUsersTotal} from './reports-repository.js'
import type {Database, UserStatus} from './schema.js'

/**
 * The web dashboard's reads: one page of users (filtered, sorted and counted in SQL, so a page costs the same at 10k
 * users as at 10), the cards' totals, and this month's traffic. Kysely builders only, with portable SQL (lower, LIKE,
 * CASE): the same queries are to run on PostgreSQL.
 */

export const usersSorts = ['name', 'status', 'used', 'lifetime', 'expires', 'created'] as const
export type UsersSort = (typeof usersSorts)[number]

export interface UsersPageQuery {
  /** Part of a name, any case. */
  search?: string
  status?: UserStatus
  sort: UsersSort
  descending: boolean
  offset: number
  limit: number
  /** Epoch ms: a stored period that has ended counts as nothing used (the next one has just begun). */
  now: number
}

export interface UsersPage {
  /** Users matching the search and status, on every page. */
  total: number
  /** The page's user ids, in display order. */
  ids: number[]
}

type UsersScope = ExpressionBuilder<Database & {u: Database['user_usage']}, 'users' | 'u'>

/**
 * This period's bytes as `toUserView` counts them: the stored running count while its period lasts, 0 once it has
 * ended (nothing is counted into a period before the next pull or inform rolls the user over).
 */
function periodUsed(eb: UsersScope, now: number) {
  return eb
    .case()
    .when('u.period_end', '>', now)
    .then(eb('u.period_up', '+', eb.ref('u.period_down')))
    .else(eb.lit(0))
    .end()
}

/** Problems first: limited, expired, disabled, then active. */
function statusRank(eb: UsersScope) {
  return eb
    .case('users.status')
    .when('limited')
    .then(eb.lit(0))
    .when('expired')
    .then(eb.lit(1))
    .when('disabled')
    .then(eb.lit(2))
    .else(eb.lit(3))
    .end()
}

/**
 * The search as a LIKE pattern on the lower-cased name, matched literally: `\`, `%` and `_` are escaped, so `a_b`
 * finds `a_b` and not `axb`. Text no name can hold (a quote, a space) simply matches nobody; it is a bound parameter
 * like every value.
 */
function namePattern(search: string): string {
  return `%${search
    .trim()
    .toLowerCase()
    .replace(/[\\%_]/g, '\\$&')}%`
}

/** The page and count queries as builders, not yet run (a test compiles them to read the SQL and its parameters). */
export function usersPageQueries(db: Db, query: UsersPageQuery) {
  let base = db.selectFrom('users').innerJoin('user_usage as u', 'u.user_id', 'users.id')
  if (query.status !== undefined) base = base.where('users.status', '=', query.status)
  if (query.search !== undefined && query.search.trim() !== '') {
    const pattern = namePattern(query.search)
    // ESCAPE has no Kysely builder; this fragment is standard SQL, the same on SQLite and PostgreSQL.
    base = base.where((eb) => sql<SqlBool>`${eb.fn('lower', ['users.name'])} like ${pattern} escape '\\'`)
  }
  const direction = query.descending ? 'desc' : 'asc'
  let page = base.select('users.id')
  switch (query.sort) {
    case 'status':
      page = page.orderBy((eb) => statusRank(eb), direction)
      break
    case 'used':
      page = page.orderBy((eb) => periodUsed(eb, query.now), direction)
      break
    case 'lifetime':
      page = page.orderBy((eb) => eb('u.total_up', '+', eb.ref('u.total_down')), direction)
      break
    case 'expires':
      // Never-expiring users last either way: they are the least urgent.
      page = page
        .orderBy((eb) => eb.case().when('users.expires_at', 'is', null).then(eb.lit(1)).else(eb.lit(0)).end())
        .orderBy('users.expires_at', direction)
      break
    case 'created':
      page = page.orderBy('users.created_at', direction)
      break
    case 'name':
      break
  }
  page = page.orderBy('users.name', query.sort === 'name' ? direction : 'asc')
  return {
    count: base.select((eb) => eb.fn.countAll<number>().as('count')),
    page: page.limit(query.limit).offset(query.offset),
  }
}

export async function usersPage(db: Db, query: UsersPageQuery): Promise<UsersPage> {
  const queries = usersPageQueries(db, query)
  const [count, rows] = await Promise.all([queries.count.executeTakeFirstOrThrow(), queries.page.execute()])
  return {total: Number(count.count), ids: rows.map((row) => row.id)}
}

export interface DashboardTotals {
  users: number
  byStatus: Record<UserStatus, number>
  /** Bytes used in every user's current period. */
  periodBytes: number
}

export async function dashboardTotals(db: Db, now: number): Promise<DashboardTotals> {
  const [statuses, period] = await Promise.all([
    db
      .selectFrom('users')
      .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy('status')
      .execute(),
    db
      .selectFrom('users')
      .innerJoin('user_usage as u', 'u.user_id', 'users.id')
      .select((eb) => eb.fn.sum<number>(periodUsed(eb, now)).as('bytes'))
      .executeTakeFirstOrThrow(),
  ])
  const byStatus: Record<UserStatus, number> = {active: 0, disabled: 0, limited: 0, expired: 0}
  for (const row of statuses) byStatus[row.status] = Number(row.count)
  return {
    users: Object.values(byStatus).reduce((sum, count) => sum + count, 0),
    byStatus,
    periodBytes: Number(period.bytes ?? 0),
  }
}

/** The bytes current users moved in a month (`fromDay <= day < toDay`): the ledger's closed month sums plus the open days. */
export async function monthTrafficOfUsers(db: Db, fromDay: string, toDay: string): Promise<number> {
  return currentUsersTotal(db, {fromDay, toDay, fromMonth: fromDay.slice(0, 7), toMonth: toDay.slice(0, 7)})
}

/** Plan names for the forms' plan menus, A→Z. */
export async function planNames(db: Db): Promise<string[]> {
  return (await db.selectFrom('plans').select('name').orderBy('name').execute()).map((row) => row.name)
}
