import {randomUUID} from 'node:crypto'

import type {TrafficDelta} from '../domain/counter-deltas.js'
import {
  countInformPushes,
  deleteInformPush,
  insertInformPush,
  oldestInformPushes,
  recordInformPushFailure,
} from '../db/inform-outbox-repository.js'
import type {Db} from '../db/open-database.js'
import type {NodeRow} from '../db/schema.js'
import {informBody} from '../inform/inform-payload.js'

/** Bounds one pull's catching up after a long outage; the rest goes with the next pulls, in order. */
const pushesPerRun = 200

export interface PushReport {
  sent: number
  /** Pushes still waiting for the receiver. */
  queued: number
  error: string | null
}

/** Queues a pull's deltas for the central receiver, inside the pull's transaction: committed together or not at all. */
export async function queuePush(
  trx: Db,
  nodeId: number,
  deltas: ReadonlyMap<string, TrafficDelta>,
  now: number,
): Promise<void> {
  if (deltas.size === 0) return
  await insertInformPush(trx, nodeId, randomUUID(), informBody(deltas), now)
}

/**
 * Sends a node's queued pushes, oldest first, deleting each after a 2xx. The first failure stops the run so the
 * order holds and a down receiver costs one timeout. A crash between the 2xx and the delete re-sends that push with
 * the same request id, which the receiver recognises: delivery is at least once, counting exactly once.
 */
export async function deliverPushes(db: Db, node: Pick<NodeRow, 'id' | 'inform_url'>): Promise<PushReport> {
  const report: PushReport = {sent: 0, queued: 0, error: null}
  if (node.inform_url === null) return report
  const pending = await oldestInformPushes(db, node.id, pushesPerRun)
  for (const push of pending) {
    // Loaded on first use: `sbq serve` and pulls of nodes that push nothing never pay for the HTTP client.
    const {postInform} = await import('./push-request.js')
    const error = await postInform(node.inform_url, push.body, push.request_id)
    if (error !== null) {
      await recordInformPushFailure(db, push.id, error)
      report.error = error
      break
    }
    await deleteInformPush(db, push.id)
    report.sent++
  }
  report.queued = await countInformPushes(db, node.id)
  return report
}
