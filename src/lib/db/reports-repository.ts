import type {ExpressionBuilder} from 'kysely'

import {defaultResetText} from '../domain/limits.js'
import {dayKeys, firstDayOfMonth, firstDayOfNextMonth, monthOfDay, shiftDay} from '../domain/day-keys.js'
import {selectJsonColumns, type JsonColumns} from './json-rows.js'
import {atSchemaBeforeNameClashCheck} from './migrate.js'
import type {Db} from './open-database.js'
import {oldestManagedDay, readClosedThrough} from './usage-repository.js'
import {topupsByPeriod, usersWithUsageAndPlan} from './users-repository.js'
import type {UserStatus} from './schema.js'

/**
 * A stretch of usage history: daily rows with `fromDay <= day < toDay`, plus the monthly rollups of
 * `fromMonth <= month < toMonth`. The caller makes the two meet: a month's rollup holds only what prune moved out of
 * its daily rows, so adding both never counts a byte twice.
 */
export interface UsageSpan {
  fromDay: string
  toDay: string
  fromMonth: string
  toMonth: string
  node?: string
}

export interface NamedUsage {
  name: string
  up: number
  down: number
}

/** Managed bytes: up/down billed (what quotas count), raw_up/raw_down as the nodes counted them. */
export interface BilledNamedUsage extends NamedUsage {
  raw_up: number
  raw_down: number
}

export interface NodeUsage extends BilledNamedUsage {
  users: number
}

export interface DayUsage {
  day: string
  up: number
  down: number
  raw_up: number
  raw_down: number
}

/** Billed and raw sums of a managed query's rows. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the daily rows, the monthly sums or their union: each has the four columns
function billedSums(eb: ExpressionBuilder<any, any>, rawColumns = true) {
  return [
    eb.fn.sum<number>('up').as('up'),
    eb.fn.sum<number>('down').as('down'),
    eb.fn.sum<number>(rawColumns ? 'raw_up' : 'up').as('raw_up'),
    eb.fn.sum<number>(rawColumns ? 'raw_down' : 'down').as('raw_down'),
  ] as const
}

/** Whether any rollup row falls in the span; when none does (never pruned), the daily query runs alone. */
async function spanHasRollups(
  db: Db,
  span: UsageSpan,
  table: 'usage_monthly' | 'unmanaged_usage_monthly',
): Promise<boolean> {
  if (span.fromMonth >= span.toMonth) return false
  let query = db
    .selectFrom(table)
    .select('month')
    .where('month', '>=', span.fromMonth)
    .where('month', '<', span.toMonth)
  if (span.node !== undefined) query = query.where('node_name', '=', span.node)
  return (await query.limit(1).executeTakeFirst()) !== undefined
}

/**
 * The managed rows of a span, from three places that never hold the same bytes: the closed monthly sums for whole
 * months of the span (up to the last closed day), the daily rows of every other day of the span, and prune's rollups.
 * A past month is then one row per user and node instead of one per day.
 */
async function managedRows(db: Db, span: UsageSpan) {
  const parts = []
  const dailyBetween = (fromDay: string, toDay: string) => {
    let query = db
      .selectFrom('usage_daily')
      .select(['node_name', 'user_name', 'up', 'down', 'raw_up', 'raw_down'])
      .where('day', '>=', fromDay)
      .where('day', '<', toDay)
    if (span.node !== undefined) query = query.where('node_name', '=', span.node)
    return query
  }
  const closed = await closedPartOf(db, span)
  if (closed === null) {
    parts.push(dailyBetween(span.fromDay, span.toDay))
  } else {
    if (span.fromDay < closed.fromDay) parts.push(dailyBetween(span.fromDay, closed.fromDay))
    if (closed.toDay < span.toDay) parts.push(dailyBetween(closed.toDay, span.toDay))
    const [firstMonth, lastMonth] = [monthOfDay(closed.fromDay), monthOfDay(shiftDay(closed.toDay, -1))]
    // One month (a month's report) by equality: the rows then come in user order, so summing them per user needs no
    // sort, which at 100k users is most of the query.
    let sums = db
      .selectFrom('usage_closed_monthly')
      .select(['node_name', 'user_name', 'up', 'down', 'raw_up', 'raw_down'])
    sums =
      firstMonth === lastMonth
        ? sums.where('month', '=', firstMonth)
        : sums.where('month', '>=', firstMonth).where('month', '<=', lastMonth)
    if (span.node !== undefined) sums = sums.where('node_name', '=', span.node)
    parts.push(sums)
  }
  if (await spanHasRollups(db, span, 'usage_monthly')) {
    let monthly = db
      .selectFrom('usage_monthly')
      .select(['node_name', 'user_name', 'up', 'down', 'raw_up', 'raw_down'])
      .where('month', '>=', span.fromMonth)
      .where('month', '<', span.toMonth)
    if (span.node !== undefined) monthly = monthly.where('node_name', '=', span.node)
    parts.push(monthly)
  }
  return parts.slice(1).reduce((union, part) => union.unionAll(part), parts[0]!)
}

/** The days of a span the closed sums answer for: its whole months, up to the last closed day; null if none. */
async function closedPartOf(db: Db, span: UsageSpan): Promise<{fromDay: string; toDay: string} | null> {
  const firstWhole = span.fromDay.endsWith('-01') ? span.fromDay : firstDayOfNextMonth(monthOfDay(span.fromDay))
  const endWhole = span.toDay.endsWith('-01') ? span.toDay : firstDayOfMonth(monthOfDay(span.toDay))
  if (firstWhole >= endWhole) return null
  const closedThrough = await readClosedThrough(db)
  if (closedThrough === null) return null
  const dayAfterClosed = shiftDay(closedThrough, 1)
  const toDay = dayAfterClosed < endWhole ? dayAfterClosed : endWhole
  return toDay > firstWhole ? {fromDay: firstWhole, toDay} : null
}

/** Bytes per name over a span, as columns in name order. */
export type UsageColumns = JsonColumns<BilledNamedUsage>

/** Bytes per managed name (users and removed users alike) over the span, summed in SQL, in name order. */
export async function usageByUser(db: Db, span: UsageSpan): Promise<UsageColumns> {
  return selectJsonColumns(
    db,
    db
      .selectFrom((await managedRows(db, span)).as('parts'))
      .select('user_name as name')
      .select((eb) => billedSums(eb))
      .groupBy('user_name')
      .orderBy('user_name'),
  )
}

/** Bytes that users who exist now moved over the span (removed users' history left out), summed in SQL. */
export async function currentUsersTotal(db: Db, span: UsageSpan): Promise<number> {
  const row = await db
    .selectFrom((await managedRows(db, span)).as('parts'))
    .innerJoin('users', 'users.name', 'parts.user_name')
    .select((eb) => eb.fn.sum<number>(eb.parens('parts.up', '+', eb.ref('parts.down'))).as('bytes'))
    .executeTakeFirstOrThrow()
  return Number(row.bytes ?? 0)
}

/** Bytes per unmanaged name over the span; never billed, so never mixed with `usageByUser`. */
export async function unmanagedUsageByName(db: Db, span: UsageSpan): Promise<NamedUsage[]> {
  let daily = db
    .selectFrom('unmanaged_usage_daily')
    .select('name')
    .select((eb) => [eb.fn.sum<number>('up').as('up'), eb.fn.sum<number>('down').as('down')])
    .where('day', '>=', span.fromDay)
    .where('day', '<', span.toDay)
    .groupBy('name')
  if (span.node !== undefined) daily = daily.where('node_name', '=', span.node)
  if (!(await spanHasRollups(db, span, 'unmanaged_usage_monthly'))) return daily.execute()
  let monthly = db
    .selectFrom('unmanaged_usage_monthly')
    .select('name')
    .select((eb) => [eb.fn.sum<number>('up').as('up'), eb.fn.sum<number>('down').as('down')])
    .where('month', '>=', span.fromMonth)
    .where('month', '<', span.toMonth)
    .groupBy('name')
  if (span.node !== undefined) monthly = monthly.where('node_name', '=', span.node)
  return db
    .selectFrom(daily.unionAll(monthly).as('parts'))
    .select('name')
    .select((eb) => [eb.fn.sum<number>('up').as('up'), eb.fn.sum<number>('down').as('down')])
    .groupBy('name')
    .execute()
}

/** Managed bytes per node over the span, with how many names used each node. */
export async function usageByNode(db: Db, span: UsageSpan): Promise<NodeUsage[]> {
  return db
    .selectFrom((await managedRows(db, span)).as('parts'))
    .select('node_name as name')
    .select((eb) => [...billedSums(eb), eb.fn.count<number>('user_name').distinct().as('users')])
    .groupBy('node_name')
    .execute()
}

/**
 * Bytes per inbound (node and tag) over the span, as 3x-ui reports them (inboundTraffics): everything the inbound
 * carried, managed names or not. Kept per day and never folded, so any month is whole.
 */
export async function usageByInbound(db: Db, span: UsageSpan): Promise<Array<NamedUsage & {node: string}>> {
  let query = db
    .selectFrom('inbound_usage_daily')
    .select(['node_name as node', 'tag as name'])
    .select((eb) => [eb.fn.sum<number>('up').as('up'), eb.fn.sum<number>('down').as('down')])
    .where('day', '>=', span.fromDay)
    .where('day', '<', span.toDay)
    .groupBy(['node_name', 'tag'])
  if (span.node !== undefined) query = query.where('node_name', '=', span.node)
  return query.execute()
}

/** Unmanaged bytes per node over the span. */
export async function unmanagedUsageByNode(db: Db, span: UsageSpan): Promise<NamedUsage[]> {
  let daily = db
    .selectFrom('unmanaged_usage_daily')
    .select(['node_name', 'up', 'down'])
    .where('day', '>=', span.fromDay)
    .where('day', '<', span.toDay)
  let monthly = db
    .selectFrom('unmanaged_usage_monthly')
    .select(['node_name', 'up', 'down'])
    .where('month', '>=', span.fromMonth)
    .where('month', '<', span.toMonth)
  if (span.node !== undefined) {
    daily = daily.where('node_name', '=', span.node)
    monthly = monthly.where('node_name', '=', span.node)
  }
  return db
    .selectFrom(daily.unionAll(monthly).as('parts'))
    .select('node_name as name')
    .select((eb) => [eb.fn.sum<number>('up').as('up'), eb.fn.sum<number>('down').as('down')])
    .groupBy('node_name')
    .execute()
}

/** One name's bytes per day over `fromDay <= day < toDay`, oldest first; days without traffic are absent. */
export async function dailyUsageOf(
  db: Db,
  name: string,
  fromDay: string,
  toDay: string,
  node?: string,
): Promise<DayUsage[]> {
  const days = dayKeys(fromDay, toDay)
  if (days.length === 0) return []
  // Rows are keyed day first: naming the days makes this one index seek per day instead of a scan of the range.
  let query = db
    .selectFrom('usage_daily')
    .select('day')
    // `user show` runs at the schema before 0010 to resolve a name clash, when every byte was billed at ratio 1.
    .select((eb) => billedSums(eb, !atSchemaBeforeNameClashCheck(db)))
    .where('day', 'in', days)
    .where('user_name', '=', name)
    .groupBy('day')
    .orderBy('day')
  if (node !== undefined) query = query.where('node_name', '=', node)
  return query.execute()
}

/** What prune folded of one name's month (its days are gone), or undefined when nothing was. */
export async function rolledUpUsageOf(
  db: Db,
  name: string,
  month: string,
  node?: string,
): Promise<{up: number; down: number; raw_up: number; raw_down: number} | undefined> {
  let query = db
    .selectFrom('usage_monthly')
    .select((eb) => billedSums(eb))
    .where('user_name', '=', name)
    .where('month', '=', month)
  if (node !== undefined) query = query.where('node_name', '=', node)
  const row = await query.executeTakeFirst()
  return row === undefined || row.up === null ? undefined : row
}

/** The first month whose daily rows prune kept (the month after the newest rollup), or undefined if never pruned. */
export async function newestRolledUpMonth(db: Db): Promise<string | undefined> {
  const [managed, unmanaged] = await Promise.all([
    db
      .selectFrom('usage_monthly')
      .select((eb) => eb.fn.max('month').as('month'))
      .executeTakeFirst(),
    db
      .selectFrom('unmanaged_usage_monthly')
      .select((eb) => eb.fn.max('month').as('month'))
      .executeTakeFirst(),
  ])
  const months = [managed?.month, unmanaged?.month].filter((month): month is string => typeof month === 'string')
  return months.length === 0 ? undefined : months.sort().at(-1)
}

export async function oldestDailyDay(db: Db): Promise<string | undefined> {
  const [managed, unmanaged] = await Promise.all([
    oldestManagedDay(db),
    db
      .selectFrom('unmanaged_usage_daily')
      .select((eb) => eb.fn.min('day').as('day'))
      .executeTakeFirst(),
  ])
  const days = [managed, unmanaged?.day].filter((day): day is string => typeof day === 'string')
  return days.length === 0 ? undefined : days.sort()[0]
}

/** Whether a name has any usage history, daily or rolled up (a removed user's history outlives them). */
export async function hasUserHistory(db: Db, name: string): Promise<boolean> {
  // Every daily row of a closed day is also in the closed sums (or, pruned, in the rollups): only later days need the
  // daily rows, which keeps this from reading the whole history.
  const closedThrough = await readClosedThrough(db)
  const lookups = [
    () =>
      db.selectFrom('usage_closed_monthly').select('month').where('user_name', '=', name).limit(1).executeTakeFirst(),
    () => db.selectFrom('usage_monthly').select('month').where('user_name', '=', name).limit(1).executeTakeFirst(),
    () =>
      db
        .selectFrom('usage_daily')
        .select('day')
        .where('day', '>', closedThrough ?? '')
        .where('user_name', '=', name)
        .limit(1)
        .executeTakeFirst(),
  ]
  for (const lookup of lookups) if (await lookup()) return true
  return false
}

/** Whether a node is configured or has any usage history (a removed node's traffic still reports). */
export async function hasNodeHistory(db: Db, name: string): Promise<boolean> {
  const lookups = [
    () => db.selectFrom('nodes').select('name').where('name', '=', name).limit(1).executeTakeFirst(),
    () => db.selectFrom('usage_daily').select('node_name').where('node_name', '=', name).limit(1).executeTakeFirst(),
    () =>
      db
        .selectFrom('unmanaged_usage_daily')
        .select('node_name')
        .where('node_name', '=', name)
        .limit(1)
        .executeTakeFirst(),
    () => db.selectFrom('usage_monthly').select('node_name').where('node_name', '=', name).limit(1).executeTakeFirst(),
    () =>
      db
        .selectFrom('unmanaged_usage_monthly')
        .select('node_name')
        .where('node_name', '=', name)
        .limit(1)
        .executeTakeFirst(),
  ]
  for (const lookup of lookups) if (await lookup()) return true
  return false
}

export interface FoldCounts {
  /** Daily rows deleted after folding, managed and unmanaged. */
  dailyRows: number
  /** Rollup rows written or added to. */
  monthlyRows: number
}

/**
 * Adds one month's daily rows into its rollups and deletes them. Run inside the caller's transaction: the rollups and
 * the deletion commit together or not at all.
 */
export async function foldMonth(db: Db, month: string, fromDay: string, toDay: string): Promise<FoldCounts> {
  const managed = await db
    .insertInto('usage_monthly')
    .columns(['month', 'node_name', 'user_name', 'up', 'down', 'raw_up', 'raw_down'])
    .expression((eb) =>
      eb
        .selectFrom('usage_daily')
        .select((inner) => [inner.val(month).as('month'), 'node_name', 'user_name', ...billedSums(inner)])
        .where('day', '>=', fromDay)
        .where('day', '<', toDay)
        .groupBy(['node_name', 'user_name']),
    )
    .onConflict((oc) =>
      oc.columns(['month', 'node_name', 'user_name']).doUpdateSet((eb) => ({
        up: eb(eb.ref('usage_monthly.up'), '+', eb.ref('excluded.up')),
        down: eb(eb.ref('usage_monthly.down'), '+', eb.ref('excluded.down')),
        raw_up: eb(eb.ref('usage_monthly.raw_up'), '+', eb.ref('excluded.raw_up')),
        raw_down: eb(eb.ref('usage_monthly.raw_down'), '+', eb.ref('excluded.raw_down')),
      })),
    )
    .executeTakeFirst()
  const unmanaged = await db
    .insertInto('unmanaged_usage_monthly')
    .columns(['month', 'node_name', 'name', 'up', 'down'])
    .expression((eb) =>
      eb
        .selectFrom('unmanaged_usage_daily')
        .select((inner) => [
          inner.val(month).as('month'),
          'node_name',
          'name',
          inner.fn.sum<number>('up').as('up'),
          inner.fn.sum<number>('down').as('down'),
        ])
        .where('day', '>=', fromDay)
        .where('day', '<', toDay)
        .groupBy(['node_name', 'name']),
    )
    .onConflict((oc) =>
      oc.columns(['month', 'node_name', 'name']).doUpdateSet((eb) => ({
        up: eb(eb.ref('unmanaged_usage_monthly.up'), '+', eb.ref('excluded.up')),
        down: eb(eb.ref('unmanaged_usage_monthly.down'), '+', eb.ref('excluded.down')),
      })),
    )
    .executeTakeFirst()
  // The month's closed sums held the same bytes as its daily rows: they leave together.
  await db.deleteFrom('usage_closed_monthly').where('month', '=', month).execute()
  const deletedManaged = await db
    .deleteFrom('usage_daily')
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .executeTakeFirst()
  const deletedUnmanaged = await db
    .deleteFrom('unmanaged_usage_daily')
    .where('day', '>=', fromDay)
    .where('day', '<', toDay)
    .executeTakeFirst()
  return {
    dailyRows: Number(deletedManaged.numDeletedRows) + Number(deletedUnmanaged.numDeletedRows),
    monthlyRows: Number(managed.numInsertedOrUpdatedRows ?? 0n) + Number(unmanaged.numInsertedOrUpdatedRows ?? 0n),
  }
}

/**
 * What a month's report needs of each user, one array per field, every array in name order: the limits in force (own,
 * else the plan's, else the default), the running period and its usage, and the bytes over the report's span (on its
 * node only, with --node).
 */
export interface ReportUserColumns {
  name: string[]
  status: UserStatus[]
  monthly_quota: number[]
  /** The reset rule in force, as stored. */
  reset: string[]
  period_start: number[]
  period_end: number[]
  /** Up plus down of the running period. */
  period_used: number[]
  /** Billed bytes over the span; span_raw_* as the nodes counted them. */
  span_up: number[]
  span_down: number[]
  span_raw_up: number[]
  span_raw_down: number[]
}

export interface ReportUsers {
  users: ReportUserColumns
  /** Names with bytes over the span that are no longer users: removed users, whose history is kept. */
  removed: BilledNamedUsage[]
  /** Bytes bought per user and period, keyed by topupKey(name, period start) (users-repository); empty when nobody bought any. */
  topups: Map<string, number>
}

/**
 * Every user, lean and as columns: a report over 100k users must not pay for credentials and notes it never shows,
 * nor for an object per user it only reads once, and every column is 10-15 ms of SQLite writing JSON (so the limits
 * come already resolved against the plan, and top-ups by name rather than with an id column). Users and their span
 * bytes both come sorted by name and are matched in one merge: a join in SQL needs a temporary index over the sums,
 * and a Map in JavaScript 100k lookups, and each cost more than both reads together.
 */
export async function listReportUsers(db: Db, span: UsageSpan): Promise<ReportUsers> {
  const [users, usage, topups] = await Promise.all([
    selectJsonColumns(
      db,
      usersWithUsageAndPlan(db)
        .select((eb) => [
          'users.name',
          'users.status',
          // effectiveLimits in SQL: the user's own limit, else the plan's, else the default.
          eb.fn.coalesce('users.monthly_quota', 'p.monthly_quota', eb.lit(0)).$castTo<number>().as('monthly_quota'),
          eb.fn.coalesce('users.reset', 'p.reset', eb.val(defaultResetText)).$castTo<string>().as('reset'),
          'u.period_start',
          'u.period_end',
          eb(eb.ref('u.period_up'), '+', eb.ref('u.period_down')).as('period_used'),
        ])
        .orderBy('users.name'),
    ),
    usageByUser(db, span),
    topupsByPeriod(db),
  ])
  const spanBytes = matchByName(users.name, usage)
  return {
    users: {
      ...users,
      span_up: spanBytes.up,
      span_down: spanBytes.down,
      span_raw_up: spanBytes.rawUp,
      span_raw_down: spanBytes.rawDown,
    },
    removed: spanBytes.unmatched,
    topups,
  }
}

/**
 * Each name's bytes, aligned with `names` (0 for a name without any), and the usage rows whose name is not among them.
 * Both inputs are sorted by SQLite's byte order; where JavaScript's string order says otherwise somewhere (it differs
 * only past U+FFFF), the match falls back to a Map.
 */
function matchByName(
  names: readonly string[],
  usage: UsageColumns,
): {up: number[]; down: number[]; rawUp: number[]; rawDown: number[]; unmatched: BilledNamedUsage[]} {
  const up = new Array<number>(names.length).fill(0)
  const down = new Array<number>(names.length).fill(0)
  const rawUp = new Array<number>(names.length).fill(0)
  const rawDown = new Array<number>(names.length).fill(0)
  const unmatched: BilledNamedUsage[] = []
  const unmatchedAt = (row: number) =>
    unmatched.push({
      name: usage.name[row]!,
      up: usage.up[row]!,
      down: usage.down[row]!,
      raw_up: usage.raw_up[row]!,
      raw_down: usage.raw_down[row]!,
    })
  const matched = (index: number, row: number) => {
    up[index] = usage.up[row]!
    down[index] = usage.down[row]!
    rawUp[index] = usage.raw_up[row]!
    rawDown[index] = usage.raw_down[row]!
  }
  if (!ascending(names) || !ascending(usage.name)) {
    const rowOf = new Map(usage.name.map((name, row) => [name, row]))
    names.forEach((name, index) => {
      const row = rowOf.get(name)
      if (row === undefined) return
      rowOf.delete(name)
      matched(index, row)
    })
    for (const row of rowOf.values()) unmatchedAt(row)
    return {up, down, rawUp, rawDown, unmatched}
  }
  let row = 0
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!
    while (row < usage.name.length && usage.name[row]! < name) unmatchedAt(row++)
    if (row < usage.name.length && usage.name[row] === name) matched(index, row++)
  }
  while (row < usage.name.length) unmatchedAt(row++)
  return {up, down, rawUp, rawDown, unmatched}
}

function ascending(names: readonly string[]): boolean {
  for (let index = 1; index < names.length; index++) if (!(names[index - 1]! < names[index]!)) return false
  return true
}
