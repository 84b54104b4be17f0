import type {Context} from '../context.js'
import {readBaseline, recordNodePull, writeBaseline} from '../db/nodes-repository.js'
import type {Db} from '../db/open-database.js'
import type {NodeRow, UnmanagedUsageDailyTable, UsageDailyTable, UserUsageTable} from '../db/schema.js'
import {addDailyUsage, addUnmanagedDailyUsage, loadRunningUsage, writeRunningUsage} from '../db/usage-repository.js'
import type {StatsSnapshot} from '../proxies/proxy-api.js'
import {defaultResetDay} from '../quotas/limits.js'
import {currentPeriod} from '../quotas/periods.js'
import {localDay} from '../time/zoned-time.js'
import {counterDeltas} from './counter-deltas.js'

export interface PullRecord {
  /** Users with new traffic that sbq manages. */
  users: number
  /** Names with new traffic that sbq does not manage (kept apart, never billed). */
  unmanaged: number
  up: number
  down: number
  baselineOnly: boolean
  restarted: boolean
}

/**
 * Writes one node's pull in ONE transaction: the daily usage rows, the running totals quota checks read, and the
 * counters' new baseline. A crash before the commit leaves the old baseline, so the next pull counts the same bytes
 * again exactly once; a crash after it leaves nothing to redo.
 */
export async function recordPull(db: Db, node: NodeRow, snapshot: StatsSnapshot, observedAt: number, context: Context): Promise<PullRecord> {
  return db.transaction().execute(async (trx) => {
    // sing-box's SSM API drops a removed user's counters; the gRPC proxies keep every counter until they restart.
    const deltas = counterDeltas(await readBaseline(trx, node.id), snapshot, observedAt, {countersOutliveUsers: node.type !== 'sing-box-ssm'})
    const record: PullRecord = {users: 0, unmanaged: 0, up: 0, down: 0, baselineOnly: deltas.baselineOnly, restarted: deltas.restarted}
    if (deltas.users.size > 0) {
      const day = localDay(context.now, context.timeZone)
      const running = await loadRunningUsage(trx)
      const daily: UsageDailyTable[] = []
      const unmanaged: UnmanagedUsageDailyTable[] = []
      const usage: UserUsageTable[] = []
      for (const [name, {up, down}] of deltas.users) {
        record.up += up
        record.down += down
        const user = running.get(name)
        if (!user) {
          unmanaged.push({day, node_name: node.name, name, up, down})
          continue
        }
        daily.push({day, node_name: node.name, user_name: name, up, down})
        const period = currentPeriod(user.period_start, context.now, user.resetDay ?? defaultResetDay, context.timeZone)
        const samePeriod = period.start === user.period_start
        usage.push({
          user_id: user.user_id,
          period_start: period.start,
          period_up: (samePeriod ? user.period_up : 0) + up,
          period_down: (samePeriod ? user.period_down : 0) + down,
          total_up: user.total_up + up,
          total_down: user.total_down + down,
          updated_at: context.now,
        })
      }
      record.users = daily.length
      record.unmanaged = unmanaged.length
      await addDailyUsage(trx, daily)
      await addUnmanagedDailyUsage(trx, unmanaged)
      await writeRunningUsage(trx, usage)
    }
    await writeBaseline(trx, node.id, {takenAt: observedAt, uptimeSeconds: snapshot.uptimeSeconds, counters: deltas.next})
    await recordNodePull(trx, node.id, context.now, null)
    return record
  })
}
