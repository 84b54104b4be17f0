import type {Context} from '../context.js'
import {
  addNodeCounted,
  lockNode,
  readBaselineForUpdate,
  recordNodePull,
  recordRefusal,
  writeBaseline,
} from '../db/nodes-repository.js'
import {yieldToEventLoop} from '../db/batched-upsert.js'
import type {Db} from '../db/open-database.js'
import type {NodeRow, UnmanagedUsageDailyTable, UsageDailyTable} from '../db/schema.js'
import {
  addClosedUsage,
  addDailyUsage,
  addRunningUsage,
  addUnmanagedDailyUsage,
  countUnmanagedNames,
  managedUserIds,
  rawDailyUsageOf,
  stalePeriods,
  unmanagedNamesOfDay,
  type UsageIncrement,
} from '../db/usage-repository.js'
import {startUsagePeriods} from '../db/users-repository.js'
import {queuePush} from './push-outbox.js'
import {PLACEHOLDER_USER_NAME} from '../proxies/shared/placeholder-user.js'
import type {CounterLifetime, StatsSnapshot} from '../proxies/proxy-driver.js'
import {defaultResetText} from '../domain/limits.js'
import {storedResetRule} from '../domain/reset-rules.js'
import {startFirstUseClocks} from '../quotas/first-use.js'
import {spendTrafficPackages} from '../quotas/traffic-packages.js'
import {currentPeriod, type Period} from '../domain/periods.js'
import {settingValue} from '../settings/settings.js'
import {localDay} from '../domain/zoned-time.js'
import {closePastDays} from './close-days.js'
import {counterDeltas, type TrafficDelta} from '../domain/counter-deltas.js'
import {billedDelta, unitRatio} from '../domain/billing-ratio.js'
import {recordInterfaceDrift, type InterfaceSample, type NodeDrift} from './drift.js'

/** How many names are sorted between two turns of the event loop (sbq serve stays responsive at 150k names). */
const rowsBetweenYields = 5000

export interface UsageRecord {
  /** Users with new traffic that sbq manages. */
  users: number
  /** Names with new traffic that sbq does not manage (kept apart, never billed). */
  unmanaged: number
  /** New unmanaged names turned away: the node had already added as many as `unmanaged-names-limit` allows today. */
  refusedNames: number
  /** Raw bytes, as the node counted them (managed and unmanaged). */
  up: number
  down: number
  /** Managed users' bytes as billed at the node's ratio. */
  billedUp: number
  billedDown: number
}

export interface PullRecord extends UsageRecord {
  baselineOnly: boolean
  restarted: boolean
  /** Against the node's host interface, when it has one (drift.ts). */
  drift: NodeDrift | null
}

/**
 * Adds new traffic per user name to the ledger, inside the caller's transaction: the daily rows, the running totals
 * quota checks read (rolling over to a new period when `context.now` is past the stored one) and the node's counted
 * bytes. Every way traffic reaches sbq (pulled counters, 3x-ui reports, pushes from other sbq) goes through here, so
 * the node's ratio applies to all of them: each user's bytes are billed at the ratio in force now, against what their
 * row of the day already holds, and bytes written before a ratio change keep what they were billed.
 */
export async function recordUsage(
  trx: Db,
  node: Pick<NodeRow, 'id' | 'name' | 'ratio_ten_thousandths'>,
  deltas: ReadonlyMap<string, TrafficDelta>,
  context: Context,
): Promise<UsageRecord> {
  const record: UsageRecord = {users: 0, unmanaged: 0, refusedNames: 0, up: 0, down: 0, billedUp: 0, billedDown: 0}
  const traffic = [...deltas].filter(([, {up, down}]) => up > 0 || down > 0)
  if (traffic.length === 0) return record
  const ratio = node.ratio_ten_thousandths
  // Taken before the closing-of-days lock, in the order a pull takes them (its baseline read locks the node first).
  if (ratio !== unitRatio) await lockNode(trx, node.id)
  const day = localDay(context.now, context.timeZone)
  const closedThrough = await closePastDays(trx, day)
  await startCurrentPeriods(trx, context)
  const ids = await managedUserIds(
    trx,
    traffic.map(([name]) => name),
  )
  // At ratio 1 billed bytes are raw bytes whatever a row held, so only a multiplied node reads its rows of the day.
  let rawToday: Map<string, {up: number; down: number}> | undefined
  if (ratio !== unitRatio) {
    rawToday = await rawDailyUsageOf(
      trx,
      day,
      node.name,
      traffic.map(([name]) => name).filter((name) => ids.has(name)),
    )
  }
  const daily: UsageDailyTable[] = []
  const offered: UnmanagedUsageDailyTable[] = []
  const increments: UsageIncrement[] = []
  for (const [index, [name, {up, down}]] of traffic.entries()) {
    if (index > 0 && index % rowsBetweenYields === 0) await yieldToEventLoop()
    const userId = ids.get(name)
    if (userId === undefined) {
      offered.push({day, node_name: node.name, name, up, down})
      continue
    }
    const before = rawToday?.get(name)
    const billedUp = billedDelta(before?.up ?? 0, up, ratio)
    const billedDown = billedDelta(before?.down ?? 0, down, ratio)
    record.up += up
    record.down += down
    record.billedUp += billedUp
    record.billedDown += billedDown
    daily.push({day, node_name: node.name, user_name: name, up: billedUp, down: billedDown, raw_up: up, raw_down: down})
    increments.push({user_id: userId, up: billedUp, down: billedDown, raw_up: up, raw_down: down})
  }
  const unmanaged = await admitUnmanaged(trx, node, offered, context.now)
  for (const row of unmanaged) {
    record.up += row.up
    record.down += row.down
  }
  record.users = daily.length
  record.unmanaged = unmanaged.length
  record.refusedNames = offered.length - unmanaged.length
  await addDailyUsage(trx, daily)
  if (closedThrough !== null && day <= closedThrough) await addClosedUsage(trx, daily)
  await addUnmanagedDailyUsage(trx, unmanaged)
  await addRunningUsage(trx, increments, context.now)
  await startFirstUseClocks(trx, new Set(increments.map((increment) => increment.user_id)), context)
  await spendTrafficPackages(trx, increments, context)
  await addNodeCounted(trx, node.id, record.up, record.down)
  return record
}

/**
 * The unmanaged rows the node may add: names it already added today, then new names up to `unmanaged-names-limit` a
 * day. Unmanaged traffic is never billed, so a node (or whoever holds its inform token) sending ever new names would
 * only grow the database; the names turned away are counted on the node as a refusal, managed users are never
 * affected.
 */
async function admitUnmanaged(
  trx: Db,
  node: Pick<NodeRow, 'id' | 'name'>,
  rows: UnmanagedUsageDailyTable[],
  now: number,
): Promise<UnmanagedUsageDailyTable[]> {
  if (rows.length === 0) return rows
  const day = rows[0]!.day
  const limit = Number(await settingValue(trx, 'unmanaged-names-limit'))
  if ((await countUnmanagedNames(trx, day, node.name)) + rows.length <= limit) return rows
  const known = await unmanagedNamesOfDay(trx, day, node.name)
  let room = limit - known.size
  const admitted = rows.filter((row) => known.has(row.name) || room-- > 0)
  const refused = rows.length - admitted.length
  if (refused > 0) {
    const reason = `${refused} new unmanaged name(s) not recorded: the node already added ${limit} today (sbq config set unmanaged-names-limit)`
    await recordRefusal(trx, node.id, {at: now, status: 200, reason, bytes: null, reports: 0, names: refused})
  }
  return admitted
}

/**
 * Moves the running totals of users whose stored period is over into the period in force, before new traffic is
 * added, so the new bytes land in the right period. Only those users are read (an index on period_end finds them).
 */
async function startCurrentPeriods(trx: Db, context: Context): Promise<void> {
  // At a month boundary every user's period ends at once, and nearly all share a stored period and a rule: each
  // group's new period is worked out once and written by one statement per few hundred users, not one per user.
  const groups = new Map<string, {from: number; period: Period; userIds: number[]}>()
  for (const stale of await stalePeriods(trx, context.now)) {
    const rule = stale.reset ?? defaultResetText
    const key = `${stale.period_start} ${stale.period_end} ${rule}`
    let group = groups.get(key)
    if (group === undefined) {
      const period = currentPeriod(
        {start: stale.period_start, end: stale.period_end},
        context.now,
        storedResetRule(rule),
        context.timeZone,
      )
      group = {from: stale.period_start, period, userIds: []}
      groups.set(key, group)
    }
    group.userIds.push(stale.user_id)
  }
  for (const group of groups.values())
    await startUsagePeriods(trx, group.userIds, group.from, group.period, context.now)
}

/**
 * Writes one node's pull in ONE transaction: its usage, the counters' new baseline and, when the node pushes to a
 * central sbq, the push to send. A crash before the commit leaves the old baseline, so the next pull counts the same
 * bytes again exactly once; a crash after it leaves nothing to redo (the queued push goes with the next pull).
 */
export async function recordPull(
  db: Db,
  node: NodeRow,
  snapshot: StatsSnapshot,
  observedAt: number,
  context: Context,
  lifetime: CounterLifetime = 'process',
  hostInterface: InterfaceSample | null = null,
): Promise<PullRecord> {
  return db.transaction().execute(async (trx) => {
    // Locked for the transaction: another host pulling the same node meanwhile waits, then reads this baseline.
    const deltas = counterDeltas(await readBaselineForUpdate(trx, node.id), snapshot, observedAt, lifetime)
    // Only someone holding the placeholder's secret could make traffic as it: nobody's to bill, nor to report.
    deltas.users.delete(PLACEHOLDER_USER_NAME)
    const usage = await recordUsage(trx, node, deltas.users, context)
    if (node.inform_url !== null) await queuePush(trx, node.id, deltas.users, context.now)
    await writeBaseline(trx, node.id, {
      takenAt: observedAt,
      uptimeSeconds: snapshot.uptimeSeconds,
      counters: deltas.next,
    })
    await recordNodePull(trx, node.id, context.now, null)
    const counted = {up: usage.up, down: usage.down, baselineOnly: deltas.baselineOnly}
    const drift = await recordInterfaceDrift(trx, node.id, hostInterface, counted, context)
    return {...usage, baselineOnly: deltas.baselineOnly, restarted: deltas.restarted, drift}
  })
}
