import {randomUUID} from 'node:crypto'

import type {TrafficDelta} from '../domain/counter-deltas.js'
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
export async function queuePush(trx: Db, nodeId: number, deltas: ReadonlyMap<string, TrafficDelta>, now: number): Promise<void> {
  if (deltas.size === 0) return
  await trx.insertInto('inform_outbox').values({node_id: nodeId, request_id: randomUUID(), body: informBody(deltas), created_at: now, last_error: null}).execute()
}

/**
 * Sends a node's queued pushes, oldest first, deleting each after a 2xx. The first failure stops the run so the
 * order holds and a down receiver costs one timeout. A crash between the 2xx and the delete re-sends that push with
 * the same request id, which the receiver recognises: delivery is at least once, counting exactly once.
 */
export async function deliverPushes(db: Db, node: Pick<NodeRow, 'id' | 'inform_url'>): Promise<PushReport> {
  const report: PushReport = {sent: 0, queued: 0, error: null}
  if (node.inform_url === null) return report
  const pending = await db.selectFrom('inform_outbox').selectAll().where('node_id', '=', node.id).orderBy('id').limit(pushesPerRun).execute()
  for (const push of pending) {
    // Loaded on first use: `sbq serve` and pulls of nodes that push nothing never pay for the HTTP client.
    const {postInform} = await import('./push-request.js')
    const error = await postInform(node.inform_url, push.body, push.request_id)
    if (error !== null) {
      await db.updateTable('inform_outbox').set((eb) => ({attempts: eb('attempts', '+', 1), last_error: error})).where('id', '=', push.id).execute()
      report.error = error
      break
    }
    await db.deleteFrom('inform_outbox').where('id', '=', push.id).execute()
    report.sent++
  }
  const left = await db.selectFrom('inform_outbox').select((eb) => eb.fn.countAll<number>().as('count')).where('node_id', '=', node.id).executeTakeFirstOrThrow()
  report.queued = Number(left.count)
  return report
}
