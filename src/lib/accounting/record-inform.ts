import {recordUsage, type UsageRecord} from './ledger.js'
import type {Context} from '../context.js'
import {forgetInformReceiptsBefore, hasInformReceipt, insertInformReceipt} from '../db/inform-receipts-repository.js'
import {findNode, recordNodePull} from '../db/nodes-repository.js'
import type {Db} from '../db/open-database.js'
import type {InboundUsageDailyTable, NodeRow} from '../db/schema.js'
import {addInboundDailyUsage} from '../db/usage-repository.js'
import {localDay} from '../domain/zoned-time.js'
import type {InformPayload} from '../inform/inform-payload.js'
import {informTokenMatches} from '../inform/inform-token.js'

/** How long a request id is remembered: a push re-sent later than this would be counted again. */
export const receiptLifetimeMs = 30 * 86_400_000

export type InformOutcome = {duplicate: false; record: UsageRecord} | {duplicate: true}

/** The node a request's path names, when its token is right; null for every kind of wrong, so nothing tells them apart. */
export async function authenticateInform(db: Db, nodeName: string, token: string): Promise<NodeRow | null> {
  const sender = await findInformSender(db, nodeName, token)
  return sender.authenticated ? sender.node! : null
}

/**
 * The node a request's path names (if it exists) and whether the token is its own: a wrong token for a node that
 * exists is still counted on that node (an old inform URI left in a panel loses every report), though the sender
 * gets the same 404 as for a node that does not exist.
 */
export async function findInformSender(
  db: Db,
  nodeName: string,
  token: string,
): Promise<{node: NodeRow | undefined; authenticated: boolean}> {
  const node = await findNode(db, nodeName)
  return {node, authenticated: informTokenMatches(token, node?.token_hash ?? null)}
}

/**
 * Records one report in ONE transaction: the users' deltas through the ledger, the inbounds' deltas, the node's last
 * report time and, when the sender gave a request id, the receipt that makes a re-sent request count once.
 */
export async function recordInform(
  db: Db,
  node: NodeRow,
  payload: InformPayload,
  requestId: string | null,
  context: Context,
): Promise<InformOutcome> {
  return db.transaction().execute(async (trx) => {
    if (requestId !== null) {
      if (await hasInformReceipt(trx, node.id, requestId)) return {duplicate: true}
      await forgetInformReceiptsBefore(trx, context.now - receiptLifetimeMs)
      await insertInformReceipt(trx, node.id, requestId, context.now)
    }
    const record = await recordUsage(trx, node, payload.clients, context)
    await addInboundUsage(trx, node.name, payload.inbounds, context)
    await recordNodePull(trx, node.id, context.now, null)
    return {duplicate: false, record}
  })
}

async function addInboundUsage(
  trx: Db,
  nodeName: string,
  inbounds: InformPayload['inbounds'],
  context: Context,
): Promise<void> {
  const day = localDay(context.now, context.timeZone)
  const rows: InboundUsageDailyTable[] = [...inbounds]
    .filter(([, {up, down}]) => up > 0 || down > 0)
    .map(([tag, {up, down}]) => ({day, node_name: nodeName, tag, up, down}))
  await addInboundDailyUsage(trx, rows)
}
