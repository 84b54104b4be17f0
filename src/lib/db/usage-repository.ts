import {insertRowSet, yieldToEventLoop, type RowSetTypes} from './batched-upsert.js'
import {dialectOf} from './dialects.js'
import {selectJsonColumns} from './json-rows.js'
import type {Db} from './open-database.js'
import {WriteConflict} from './write-conflict.js'
import type {
  InboundUsageDailyTable,
  UnmanagedUsageDailyTable,
  UsageClosedMonthlyTable,
  UsageDailyTable,
  UserUsageTable,
} from './schema.js'

/** A user whose stored period has ended. */
export interface StalePeriod {
  user_id: number
  period_start: number
  period_end: number
  /** The user's reset rule as stored, else the plan's; null: the default. */
  reset: string | null
}

/** Few names are looked up one by one (a 3x-ui report every few seconds); many are read with every user at once. */
const lookupLimit = 500
/** Every user is read in pages of this many, letting the event loop run in between (sbq serve at 150k users). */
const usersPage = 5000

/** The id of each managed name among `names` (all users when there are many names). */
export async function managedUserIds(db: Db, names: readonly string[]): Promise<Map<string, number>> {
  if (names.length === 0) return new Map()
  if (names.length <= lookupLimit) {
    const rows = await db
      .selectFrom('users')
      .select(['users.name', 'users.id'])
      .where('users.name', 'in', names)
      .execute()
    return new Map(rows.map((row) => [row.name, row.id]))
  }
  const ids = new Map<string, number>()
  for (let after = 0; ; await yieldToEventLoop()) {
    const page = await selectJsonColumns(
      db,
      db
        .selectFrom('users')
        .select(['users.id', 'users.name'])
        .where('users.id', '>', after)
        .orderBy('users.id')
        .limit(usersPage),
    )
    for (let index = 0; index < page.id.length; index++) ids.set(page.name[index]!, page.id[index]!)
    if (page.id.length < usersPage) return ids
    after = page.id[page.id.length - 1]!
  }
}

/**
 * Users whose stored period is over at `now`, found through the period_end index. A period that starts after `now`
 * (the clock went back) is left as it is: traffic is added to it rather than wiping what it counted.
 */
export async function stalePeriods(db: Db, now: number): Promise<StalePeriod[]> {
  return db
    .selectFrom('user_usage as u')
    .innerJoin('users', 'users.id', 'u.user_id')
    .leftJoin('plans as p', 'p.id', 'users.plan_id')
    .select(['u.user_id', 'u.period_start', 'u.period_end'])
    .select((eb) => eb.fn.coalesce('users.reset', 'p.reset').as('reset'))
    .where('u.period_end', '<=', now)
    .execute()
}

/** New traffic per user, added to the running totals by SQL (nothing is read first): billed, and as counted. */
export interface UsageIncrement {
  user_id: number
  up: number
  down: number
  raw_up: number
  raw_down: number
}

const runningTypes: RowSetTypes<UserUsageTable> = {
  user_id: 'bigint',
  period_start: 'bigint',
  period_end: 'bigint',
  period_up: 'bigint',
  period_down: 'bigint',
  total_up: 'bigint',
  total_down: 'bigint',
  raw_period_up: 'bigint',
  raw_period_down: 'bigint',
  raw_total_up: 'bigint',
  raw_total_down: 'bigint',
  updated_at: 'bigint',
}

export async function addRunningUsage(db: Db, rows: readonly UsageIncrement[], now: number): Promise<void> {
  // Every user gets a user_usage row when created, so the insert half never runs; it exists because this is the one
  // portable multi-row update. Were a row missing, period 0-0 makes the next write roll it into the current period.
  const values = rows.map((row) => ({
    user_id: row.user_id,
    period_start: 0,
    period_end: 0,
    period_up: row.up,
    period_down: row.down,
    total_up: row.up,
    total_down: row.down,
    raw_period_up: row.raw_up,
    raw_period_down: row.raw_down,
    raw_total_up: row.raw_up,
    raw_total_down: row.raw_down,
    updated_at: now,
  }))
  await insertRowSet(db, 'user_usage', values, runningTypes, (insert) =>
    insert.onConflict((oc) =>
      oc.column('user_id').doUpdateSet((eb) => ({
        period_up: eb(eb.ref('user_usage.period_up'), '+', eb.ref('excluded.period_up')),
        period_down: eb(eb.ref('user_usage.period_down'), '+', eb.ref('excluded.period_down')),
        total_up: eb(eb.ref('user_usage.total_up'), '+', eb.ref('excluded.total_up')),
        total_down: eb(eb.ref('user_usage.total_down'), '+', eb.ref('excluded.total_down')),
        raw_period_up: eb(eb.ref('user_usage.raw_period_up'), '+', eb.ref('excluded.raw_period_up')),
        raw_period_down: eb(eb.ref('user_usage.raw_period_down'), '+', eb.ref('excluded.raw_period_down')),
        raw_total_up: eb(eb.ref('user_usage.raw_total_up'), '+', eb.ref('excluded.raw_total_up')),
        raw_total_down: eb(eb.ref('user_usage.raw_total_down'), '+', eb.ref('excluded.raw_total_down')),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    ),
  )
}

/**
 * The raw bytes each of `names` already has on `day` from one node: what a multiplied node's new bytes are billed
 * against (see billedDelta). Few names are looked up by key; many read the day's rows of the node in one pass.
 */
export async function rawDailyUsageOf(
  db: Db,
  day: string,
  nodeName: string,
  names: readonly string[],
): Promise<Map<string, {up: number; down: number}>> {
  const found = new Map<string, {up: number; down: number}>()
  if (names.length === 0) return found
  let query = db
    .selectFrom('usage_daily')
    .select(['user_name', 'raw_up', 'raw_down'])
    .where('day', '=', day)
    .where('node_name', '=', nodeName)
  if (names.length <= lookupLimit) query = query.where('user_name', 'in', names)
  const rows = await selectJsonColumns(db, query)
  for (let index = 0; index < rows.user_name.length; index++)
    found.set(rows.user_name[index]!, {up: rows.raw_up[index]!, down: rows.raw_down[index]!})
  return found
}

const dailyTypes: RowSetTypes<UsageDailyTable> = {
  day: 'text',
  node_name: 'text',
  user_name: 'text',
  up: 'bigint',
  down: 'bigint',
  raw_up: 'bigint',
  raw_down: 'bigint',
}

export async function addDailyUsage(db: Db, rows: UsageDailyTable[]): Promise<void> {
  await insertRowSet(db, 'usage_daily', rows, dailyTypes, (insert) =>
    insert.onConflict((oc) =>
      oc.columns(['day', 'node_name', 'user_name']).doUpdateSet((eb) => ({
        up: eb(eb.ref('usage_daily.up'), '+', eb.ref('excluded.up')),
        down: eb(eb.ref('usage_daily.down'), '+', eb.ref('excluded.down')),
        raw_up: eb(eb.ref('usage_daily.raw_up'), '+', eb.ref('excluded.raw_up')),
        raw_down: eb(eb.ref('usage_daily.raw_down'), '+', eb.ref('excluded.raw_down')),
      })),
    ),
  )
}

const unmanagedDailyTypes: RowSetTypes<UnmanagedUsageDailyTable> = {
  day: 'text',
  node_name: 'text',
  name: 'text',
  up: 'bigint',
  down: 'bigint',
}

export async function addUnmanagedDailyUsage(db: Db, rows: UnmanagedUsageDailyTable[]): Promise<void> {
  await insertRowSet(db, 'unmanaged_usage_daily', rows, unmanagedDailyTypes, (insert) =>
    insert.onConflict((oc) =>
      oc.columns(['day', 'node_name', 'name']).doUpdateSet((eb) => ({
        up: eb(eb.ref('unmanaged_usage_daily.up'), '+', eb.ref('excluded.up')),
        down: eb(eb.ref('unmanaged_usage_daily.down'), '+', eb.ref('excluded.down')),
      })),
    ),
  )
}

const inboundDailyTypes: RowSetTypes<InboundUsageDailyTable> = {
  day: 'text',
  node_name: 'text',
  tag: 'text',
  up: 'bigint',
  down: 'bigint',
}

export async function addInboundDailyUsage(db: Db, rows: InboundUsageDailyTable[]): Promise<void> {
  await insertRowSet(db, 'inbound_usage_daily', rows, inboundDailyTypes, (insert) =>
    insert.onConflict((oc) =>
      oc.columns(['day', 'node_name', 'tag']).doUpdateSet((eb) => ({
        up: eb(eb.ref('inbound_usage_daily.up'), '+', eb.ref('excluded.up')),
        down: eb(eb.ref('inbound_usage_daily.down'), '+', eb.ref('excluded.down')),
      })),
    ),
  )
}

/** How many unmanaged names the node has a row for on `day` (the table's key starts with day and node). */
export async function countUnmanagedNames(db: Db, day: string, nodeName: string): Promise<number> {
  const row = await db
    .selectFrom('unmanaged_usage_daily')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('day', '=', day)
    .where('node_name', '=', nodeName)
    .executeTakeFirst()
  return Number(row?.count ?? 0)
}

export async function unmanagedNamesOfDay(db: Db, day: string, nodeName: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('unmanaged_usage_daily')
    .select('name')
    .where('day', '=', day)
    .where('node_name', '=', nodeName)
    .execute()
  return new Set(rows.map((row) => row.name))
}

/**
 * Holds the lock between closing past days and writing usage until the transaction ends. On a server database many
 * hosts write at once, and a closing that ran beside a transaction still writing into a day being closed would miss
 * that transaction's rows (not yet visible to it), while two closings at once would each add the same days. So every
 * write of usage shares this lock and a closing holds it alone: the closing waits for the writes in flight and sees
 * all their rows, and writes after it see the new last closed day.
 */
export async function lockClosingOfDays(db: Db, mode: 'shared' | 'exclusive'): Promise<void> {
  await dialectOf(db).lockForTransaction(db, 'close-days', mode)
}

/** The last day whose daily rows are summed into usage_closed_monthly, or null before the first close. */
export async function readClosedThrough(db: Db): Promise<string | null> {
  const row = await db.selectFrom('usage_closed_through').select('day').executeTakeFirst()
  return row?.day ?? null
}

/**
 * Moves the last closed day from `before` to `day`, only if no other writer moved it meanwhile (a compare-and-set on
 * the table's one row): two writers closing the same days would add them to the sums twice. On SQLite the write
 * lock already rules that out; on a server database the loser's transaction rolls back and runs again.
 */
export async function writeClosedThrough(db: Db, before: string | null, day: string): Promise<void> {
  if (before === null) {
    await db.insertInto('usage_closed_through').values({id: 1, day}).execute()
    return
  }
  const result = await db
    .updateTable('usage_closed_through')
    .set({day})
    .where('id', '=', 1)
    .where('day', '=', before)
    .executeTakeFirst()
  if (result.numUpdatedRows !== 1n) throw new WriteConflict(`another writer closed days past ${before} meanwhile`)
}

/** Adds the daily rows of `fromDay <= day < toDay` (all in `month`) to that month's closed sums. */
export async function closeDailyUsage(db: Db, piece: {month: string; fromDay: string; toDay: string}): Promise<void> {
  await db
    .insertInto('usage_closed_monthly')
    .columns(['month', 'user_name', 'node_name', 'up', 'down', 'raw_up', 'raw_down'])
    .expression((eb) =>
      eb
        .selectFrom('usage_daily')
        .select((inner) => [
          inner.val(piece.month).as('month'),
          'user_name',
          'node_name',
          inner.fn.sum<number>('up').as('up'),
          inner.fn.sum<number>('down').as('down'),
          inner.fn.sum<number>('raw_up').as('raw_up'),
          inner.fn.sum<number>('raw_down').as('raw_down'),
        ])
        .where('day', '>=', piece.fromDay)
        .where('day', '<', piece.toDay)
        .groupBy(['user_name', 'node_name']),
    )
    .onConflict((oc) =>
      oc.columns(['month', 'user_name', 'node_name']).doUpdateSet((eb) => ({
        up: eb(eb.ref('usage_closed_monthly.up'), '+', eb.ref('excluded.up')),
        down: eb(eb.ref('usage_closed_monthly.down'), '+', eb.ref('excluded.down')),
        raw_up: eb(eb.ref('usage_closed_monthly.raw_up'), '+', eb.ref('excluded.raw_up')),
        raw_down: eb(eb.ref('usage_closed_monthly.raw_down'), '+', eb.ref('excluded.raw_down')),
      })),
    )
    .execute()
}

const closedMonthlyTypes: RowSetTypes<UsageClosedMonthlyTable> = {
  month: 'text',
  user_name: 'text',
  node_name: 'text',
  up: 'bigint',
  down: 'bigint',
  raw_up: 'bigint',
  raw_down: 'bigint',
}

/** Traffic written to a day that is already closed (a clock set back): it goes into the closed sums as well. */
export async function addClosedUsage(db: Db, rows: UsageDailyTable[]): Promise<void> {
  await insertRowSet(
    db,
    'usage_closed_monthly',
    rows.map((row) => ({
      month: row.day.slice(0, 7),
      user_name: row.user_name,
      node_name: row.node_name,
      up: row.up,
      down: row.down,
      raw_up: row.raw_up,
      raw_down: row.raw_down,
    })),
    closedMonthlyTypes,
    (insert) =>
      insert.onConflict((oc) =>
        oc.columns(['month', 'user_name', 'node_name']).doUpdateSet((eb) => ({
          up: eb(eb.ref('usage_closed_monthly.up'), '+', eb.ref('excluded.up')),
          down: eb(eb.ref('usage_closed_monthly.down'), '+', eb.ref('excluded.down')),
          raw_up: eb(eb.ref('usage_closed_monthly.raw_up'), '+', eb.ref('excluded.raw_up')),
          raw_down: eb(eb.ref('usage_closed_monthly.raw_down'), '+', eb.ref('excluded.raw_down')),
        })),
      ),
  )
}

export async function oldestManagedDay(db: Db): Promise<string | undefined> {
  const row = await db
    .selectFrom('usage_daily')
    .select((eb) => eb.fn.min('day').as('day'))
    .executeTakeFirst()
  return typeof row?.day === 'string' ? row.day : undefined
}
