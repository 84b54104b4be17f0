import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {
  dailyUsageOf,
  hasNodeHistory,
  hasUserHistory,
  listReportUsers,
  newestRolledUpMonth,
  rolledUpUsageOf,
  unmanagedUsageByName,
  unmanagedUsageByNode,
  usageByNode,
  usageByUser,
  type NamedUsage,
  type ReportUserColumns,
  type UsageSpan,
  usageByInbound,
} from '../db/reports-repository.js'
import type {UserStatus} from '../db/schema.js'
import {findUserRecord, topupKey} from '../db/users-repository.js'
import {invalidInput, notFound} from '../errors.js'
import {periodAllowance} from '../domain/limits.js'
import {currentPeriod, endsNever, type Period} from '../domain/periods.js'
import {storedResetRule} from '../domain/reset-rules.js'
import {localDay} from '../domain/zoned-time.js'
import {iso, toUserView} from '../domain/user.js'
import {currentMonth, monthKey, parseMonth, type MonthRange} from '../domain/month-range.js'
import {
  billedUsage,
  byTotalThenName,
  percentOf,
  referenceInstant,
  sumBilledUsage,
  sumUsage,
  usage,
  type BilledUsage,
  type Usage,
} from '../domain/usage-arithmetic.js'

export type {BilledUsage, Usage} from '../domain/usage-arithmetic.js'

export interface ReportOptions {
  /** `YYYY-MM`; the current month in the install's zone when absent. */
  month?: string
  user?: string
  node?: string
  byNode?: boolean
  /** One row per inbound (3x-ui reports each inbound's traffic) instead of per user. */
  byInbound?: boolean
  top?: number
  active?: boolean
}

/** The month a report covers; `from`/`to` are its local midnights as ISO instants. */
export interface ReportHeader {
  month: string
  timeZone: string
  from: string
  to: string
  node: string | null
}

/** Traffic of names sbq does not manage: reported on its own line, never in the managed totals. */
export interface UnmanagedUsage extends Usage {
  names: number
}

/** up/down/total are billed bytes (what quotas count); `raw` is what the nodes counted. */
export interface UserReportRow extends BilledUsage {
  name: string
  /** `removed` for a name with traffic this month that is no longer a user. */
  status: UserStatus | 'removed'
  /** The rest is null for removed users. */
  monthlyQuota: number | null
  /** Monthly quota plus that period's top-ups; 0 means unlimited. */
  allowance: number | null
  /** The billing period the percentage is of: the one in force at the report's reference instant. */
  periodStart: string | null
  periodEnd: string | null
  /** All of the user's traffic in that period (every node, whatever --node says); null when pruning lost part of it. */
  periodUsed: number | null
  /** periodUsed / allowance in percent, one decimal; null when unlimited or unknown. */
  percent: number | null
}

export interface UsersReport extends ReportHeader {
  kind: 'users'
  /** Each user's percentage is of their billing period in force at this instant (the month's last moment, or now). */
  periodsAt: string
  rows: UserReportRow[]
  /** How many rows there were before --top. */
  users: number
  /** Over every row, --top or not. */
  totals: BilledUsage
  unmanaged: UnmanagedUsage
}

export interface NodeReportRow extends BilledUsage {
  name: string
  /** Managed names with traffic on the node. */
  users: number
  /** Unmanaged bytes on the node, not in `total`. */
  unmanaged: number
}

export interface NodesReport extends ReportHeader {
  kind: 'nodes'
  rows: NodeReportRow[]
  totals: BilledUsage
  unmanaged: UnmanagedUsage
}

export interface DayRow extends BilledUsage {
  /** `YYYY-MM-DD`, a local day. */
  day: string
}

export interface UserCurrentPeriod {
  start: string
  /** Null: the period never ends. */
  end: string | null
  used: number
  allowance: number
  percent: number | null
}

export interface UserMonthReport extends ReportHeader {
  kind: 'user'
  user: string
  status: UserStatus | 'removed'
  /** Every day of the month up to today (or the month's end), zeros included. */
  days: DayRow[]
  /** Bytes of the month that prune folded into a monthly total, so no longer split by day; null when none. */
  folded: BilledUsage | null
  totals: BilledUsage
  /** The user's current billing period so far (from the running totals quota checks use); null for a removed user. */
  currentPeriod: UserCurrentPeriod | null
}

/** Raw bytes: an inbound carries every name's traffic, and 3x-ui reports it before any ratio. */
export interface InboundReportRow extends Usage {
  node: string
  /** The inbound's tag on the node. */
  name: string
}

/** Traffic per inbound: all the inbound carried (managed or not), as the node reported it; 3x-ui nodes report it. */
export interface InboundsReport extends ReportHeader {
  kind: 'inbounds'
  rows: InboundReportRow[]
  totals: Usage
}

export type Report = UsersReport | NodesReport | InboundsReport | UserMonthReport

export async function buildReport(db: Db, options: ReportOptions, context: Context): Promise<Report> {
  const range =
    options.month === undefined
      ? currentMonth(context.now, context.timeZone)
      : parseMonth(options.month, context.timeZone)
  if (options.top !== undefined && (!Number.isInteger(options.top) || options.top < 1)) {
    throw invalidInput(
      'INVALID_TOP',
      `--top "${options.top}" is not a positive whole number`,
      'give how many rows to show, like --top 10',
    )
  }
  const header: ReportHeader = {
    month: range.month,
    timeZone: context.timeZone,
    from: iso(range.start),
    to: iso(range.end),
    node: options.node ?? null,
  }
  // One read snapshot: a pull or a new user landing between the report's reads would make its rows disagree (a user
  // added meanwhile would show up as removed). Read only: it must not hold the write lock while it reads.
  return db
    .transaction()
    .setAccessMode('read only')
    .execute(async (trx) => {
      if (options.node !== undefined && !(await hasNodeHistory(trx, options.node))) {
        throw notFound(
          'NODE_NOT_FOUND',
          `node "${options.node}" does not exist and has no usage history`,
          'see: sbq node list',
        )
      }
      if (options.user !== undefined) return userMonthReport(trx, options.user, range, header, context)
      if (options.byNode) return nodesReport(trx, range, header)
      if (options.byInbound) return inboundsReport(trx, range, header)
      return usersReport(trx, range, header, options, context)
    })
}

/** A calendar month's history: its daily rows and its rollups (the `endDay` of a month is the next month's first day). */
export function monthSpan(range: MonthRange, node?: string): UsageSpan {
  return {fromDay: range.firstDay, toDay: range.endDay, fromMonth: range.month, toMonth: range.endDay.slice(0, 7), node}
}

function unmanagedSummary(rows: NamedUsage[]): UnmanagedUsage {
  return {...sumUsage(rows.map(usage)), names: rows.length}
}

async function usersReport(
  db: Db,
  range: MonthRange,
  header: ReportHeader,
  options: ReportOptions,
  context: Context,
): Promise<UsersReport> {
  const span = monthSpan(range, options.node)
  const [{users, removed: removedUsage, topups}, unmanaged] = await Promise.all([
    listReportUsers(db, span),
    unmanagedUsageByName(db, span),
  ])
  const reference = referenceInstant(range, context.now)
  const periods = await periodsAtReference(db, users, reference, range, options.node === undefined, context)
  const topupOf = (name: string, periodStart: number): number =>
    topups.size === 0 ? 0 : (topups.get(topupKey(name, periodStart)) ?? 0)

  const rows = new Array<UserReportRow>(users.name.length)
  // Rows left out by --active have no bytes, so the totals over every row are the totals over the listed ones.
  let up = 0
  let down = 0
  let rawUp = 0
  let rawDown = 0
  for (let index = 0; index < rows.length; index++) {
    const name = users.name[index]!
    const spanUp = users.span_up[index]!
    const spanDown = users.span_down[index]!
    const spanRawUp = users.span_raw_up[index]!
    const spanRawDown = users.span_raw_down[index]!
    const monthlyQuota = users.monthly_quota[index]!
    const {period, usedOf} = periods[index]!
    const used = usedOf(index)
    const allowance = periodAllowance(monthlyQuota, topupOf(name, period.start))
    up += spanUp
    down += spanDown
    rawUp += spanRawUp
    rawDown += spanRawDown
    rows[index] = {
      name,
      status: users.status[index]!,
      up: spanUp,
      down: spanDown,
      total: spanUp + spanDown,
      raw: {up: spanRawUp, down: spanRawDown, total: spanRawUp + spanRawDown},
      monthlyQuota,
      allowance,
      periodStart: period.startIso,
      periodEnd: period.endIso,
      periodUsed: used,
      percent: percentOf(used, allowance),
    }
  }
  for (const removed of removedUsage) {
    up += removed.up
    down += removed.down
    rawUp += removed.raw_up
    rawDown += removed.raw_down
    rows.push({
      name: removed.name,
      status: 'removed',
      ...billedUsage(removed),
      monthlyQuota: null,
      allowance: null,
      periodStart: null,
      periodEnd: null,
      periodUsed: null,
      percent: null,
    })
  }
  // Busiest first; users without traffic come last, by name.
  rows.sort(byTotalThenName)
  const listed = options.active ? rows.filter((row) => row.total > 0) : rows
  return {
    kind: 'users',
    ...header,
    periodsAt: iso(reference),
    rows: options.top === undefined ? listed : listed.slice(0, options.top),
    users: listed.length,
    totals: {up, down, total: up + down, raw: {up: rawUp, down: rawDown, total: rawUp + rawDown}},
    unmanaged: unmanagedSummary(unmanaged),
  }
}

/** A billing period as a report shows it; users share a handful, so each is formatted once. */
interface ReportPeriod extends Period {
  startIso: string
  endIso: string | null
}

/**
 * A user's period at the report's instant and where its usage comes from: the running totals (it is the period they
 * hold), the span's bytes, other history, or nowhere (null: pruning cut into it). Shared by every user it applies to.
 */
interface PeriodAtReference {
  period: ReportPeriod
  /** The usage of the user at this index of the report's columns. */
  usedOf: (index: number) => number | null
}

/**
 * Each user's billing period at `reference` and how to get its usage, in the order of the report's user columns.
 * The period the running totals hold is read from them (what quota checks use); an earlier one is summed from
 * history, one query per distinct period, reusing the users' span bytes when the period is the report's whole month
 * over every node.
 */
async function periodsAtReference(
  db: Db,
  users: ReportUserColumns,
  reference: number,
  range: MonthRange,
  spanIsAllNodes: boolean,
  context: Context,
): Promise<PeriodAtReference[]> {
  const periodOf = (start: number, end: number): ReportPeriod => ({
    start,
    end,
    startIso: iso(start),
    endIso: endsNever({end}) ? null : iso(end),
  })
  const running = (start: number, end: number): PeriodAtReference => ({
    period: periodOf(start, end),
    usedOf: (index) => users.period_used[index]!,
  })
  // Equal periods reached from different stored ones are one group, so one query: keyed by start, then end. Their
  // usage is filled in once every user is grouped.
  const pastGroups = new Map<number, Map<number, PeriodAtReference>>()
  const pastGroup = (start: number, end: number) =>
    mapIn(
      mapIn(pastGroups, start, () => new Map()),
      end,
      () => ({period: periodOf(start, end), usedOf: () => null}),
    )
  // Time-zone arithmetic is slow and users share a handful of (stored start, stored end, reset rule) triples: each is
  // worked out once, keyed by numbers (at 100k users, building string keys alone took 0.1 s), and a user with the same
  // triple as the one before skips even the lookup.
  const resolved = new Map<number, Map<number, Map<string, PeriodAtReference>>>()
  const result = new Array<PeriodAtReference>(users.name.length)
  let previous: {start: number; end: number; reset: string; at: PeriodAtReference} | undefined
  for (let index = 0; index < result.length; index++) {
    const start = users.period_start[index]!
    const end = users.period_end[index]!
    const reset = users.reset[index]!
    if (previous === undefined || previous.start !== start || previous.end !== end || previous.reset !== reset) {
      const at = mapIn(
        mapIn(
          mapIn(resolved, start, () => new Map()),
          end,
          () => new Map(),
        ),
        reset,
        () => {
          const period = currentPeriod({start, end}, reference, storedResetRule(reset), context.timeZone)
          return period.start === start ? running(period.start, period.end) : pastGroup(period.start, period.end)
        },
      )
      previous = {start, end, reset, at}
    }
    result[index] = previous.at
  }
  const pastPeriods = [...pastGroups.values()].flatMap((byEnd) => [...byEnd.values()])
  if (pastPeriods.length === 0) return result

  const keptFrom = await keptDailyFrom(db)
  for (const group of pastPeriods) {
    const fromDay = localDay(group.period.start, context.timeZone)
    const toDay = localDay(group.period.end, context.timeZone)
    if (!spanIsKnown(fromDay, keptFrom) || !spanIsKnown(toDay, keptFrom)) continue
    if (spanIsAllNodes && fromDay === range.firstDay && toDay === range.endDay) {
      group.usedOf = (index) => users.span_up[index]! + users.span_down[index]!
      continue
    }
    const history = await usageByUser(db, {fromDay, toDay, fromMonth: fromDay.slice(0, 7), toMonth: toDay.slice(0, 7)})
    const rowOf = new Map(history.name.map((name, row) => [name, row]))
    group.usedOf = (index) => {
      const row = rowOf.get(users.name[index]!)
      return row === undefined ? 0 : history.up[row]! + history.down[row]!
    }
  }
  return result
}

/** The value under `key`, made and stored first if missing. */
function mapIn<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key)
  if (value === undefined) map.set(key, (value = make()))
  return value
}

/** The first day whose daily rows prune kept; days before it survive only as whole-month totals. */
async function keptDailyFrom(db: Db): Promise<string | undefined> {
  const newest = await newestRolledUpMonth(db)
  if (newest === undefined) return undefined
  const [year, month] = newest.split('-').map(Number) as [number, number]
  return month === 12 ? `${monthKey(year + 1, 1)}-01` : `${monthKey(year, month + 1)}-01`
}

/** A period edge splits no folded month when it is after the prune horizon or on a month's first day. */
function spanIsKnown(edgeDay: string, keptFrom: string | undefined): boolean {
  return keptFrom === undefined || edgeDay >= keptFrom || edgeDay.endsWith('-01')
}

async function nodesReport(db: Db, range: MonthRange, header: ReportHeader): Promise<NodesReport> {
  const span = monthSpan(range, header.node ?? undefined)
  const [nodes, unmanagedNodes, unmanagedNames] = await Promise.all([
    usageByNode(db, span),
    unmanagedUsageByNode(db, span),
    unmanagedUsageByName(db, span),
  ])
  const unmanagedOf = new Map(unmanagedNodes.map((row) => [row.name, row.up + row.down]))
  const rows: NodeReportRow[] = nodes.map((node) => ({
    name: node.name,
    ...billedUsage(node),
    users: node.users,
    unmanaged: unmanagedOf.get(node.name) ?? 0,
  }))
  for (const node of unmanagedNodes) {
    if (!rows.some((row) => row.name === node.name))
      rows.push({
        name: node.name,
        ...billedUsage({up: 0, down: 0, raw_up: 0, raw_down: 0}),
        users: 0,
        unmanaged: node.up + node.down,
      })
  }
  rows.sort(byTotalThenName)
  return {kind: 'nodes', ...header, rows, totals: sumBilledUsage(rows), unmanaged: unmanagedSummary(unmanagedNames)}
}

async function inboundsReport(db: Db, range: MonthRange, header: ReportHeader): Promise<InboundsReport> {
  const rows = (await usageByInbound(db, monthSpan(range, header.node ?? undefined))).map((row) => ({
    node: row.node,
    name: row.name,
    ...usage(row),
  }))
  rows.sort((a, b) => byTotalThenName(a, b) || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
  return {kind: 'inbounds', ...header, rows, totals: sumUsage(rows)}
}

async function userMonthReport(
  db: Db,
  name: string,
  range: MonthRange,
  header: ReportHeader,
  context: Context,
): Promise<UserMonthReport> {
  const record = await findUserRecord(db, name)
  if (!record && !(await hasUserHistory(db, name))) {
    throw notFound('USER_NOT_FOUND', `user "${name}" does not exist and has no usage history`, 'see: sbq user list')
  }
  const node = header.node ?? undefined
  const [daily, rolledUp] = await Promise.all([
    dailyUsageOf(db, name, range.firstDay, range.endDay, node),
    rolledUpUsageOf(db, name, range.month, node),
  ])
  const byDay = new Map(daily.map((row) => [row.day, row]))
  const lastDay = localDay(Math.min(Math.max(context.now, range.start), range.end - 1), context.timeZone)
  const days: DayRow[] = []
  for (let day = 1; ; day++) {
    const key = `${range.month}-${String(day).padStart(2, '0')}`
    if (key > lastDay) break
    days.push({day: key, ...billedUsage(byDay.get(key) ?? {up: 0, down: 0, raw_up: 0, raw_down: 0})})
  }
  const folded = rolledUp === undefined ? null : billedUsage(rolledUp)
  let current: UserCurrentPeriod | null = null
  if (record) {
    const view = toUserView(record, context)
    current = {
      start: view.periodStart,
      end: view.periodEnd,
      used: view.periodUsed,
      allowance: view.allowance,
      percent: percentOf(view.periodUsed, view.allowance),
    }
  }
  return {
    kind: 'user',
    ...header,
    user: name,
    status: record?.status ?? 'removed',
    days,
    folded,
    totals: sumBilledUsage(folded === null ? days : [...days, folded]),
    currentPeriod: current,
  }
}
