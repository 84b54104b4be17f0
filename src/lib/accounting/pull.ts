import type {Context} from '../context.js'
import {listNodes, recordNodePull} from '../db/nodes-repository.js'
import type {Db} from '../db/open-database.js'
import type {NodeRow} from '../db/schema.js'
import {invalidInput, SbqError} from '../errors.js'
import {deliverPushes, type PushReport} from './push-outbox.js'
import {connectNode, driverOf} from '../proxies/registry.js'
import {requireNode} from '../nodes/node-service.js'
import type {CounterLifetime, StatsSnapshot} from '../proxies/proxy-driver.js'
import {recordPull, type PullRecord} from './ledger.js'
import {sampleInterface, type InterfaceSample, type NodeDrift} from './drift.js'

export interface NodePull {
  name: string
  ok: boolean
  /** Managed users with new traffic. */
  users: number
  unmanaged: number
  /** Raw bytes, as the node counted them. */
  up: number
  down: number
  /** Managed users' new bytes as billed at the node's ratio (equal to their raw bytes at ratio 1). */
  billedUp: number
  billedDown: number
  uptime: number | null
  /** First pull of this node: its counters became the baseline, nothing was billed. */
  baseline: boolean
  restarted: boolean
  error: string | null
  /** For a node with an inform URL: what reached the central receiver after this pull. */
  push: PushReport | null
  /** Against its host interface (`node set --interface`); null for a node without one, or that failed. */
  drift: NodeDrift | null
}

export interface PullResult {
  nodes: NodePull[]
}

export interface PullOptions {
  /** One node, which must be one sbq pulls (`stats pull --node`). */
  node?: string
  /**
   * Only the nodes of these names that sbq pulls, skipping the rest as a pull of every node does (`check --node`,
   * which holds the locks of exactly these nodes).
   */
  only?: readonly string[]
}

/**
 * Reads every node (or one, or some) at once, then writes each node's pull in its own transaction. A node that fails
 * writes no usage and does not stop the others.
 */
export async function pullNodes(db: Db, options: PullOptions, context: Context): Promise<PullResult> {
  const only = options.only === undefined ? undefined : new Set(options.only)
  const nodes =
    options.node === undefined
      ? (await listNodes(db)).filter((node) => !reportsItself(node) && (only === undefined || only.has(node.name)))
      : [pullable(await requireNode(db, options.node))]
  const reads = await Promise.all(nodes.map((node) => readNode(node)))
  const results: NodePull[] = []
  for (const [index, node] of nodes.entries()) {
    const read = reads[index]!
    if ('error' in read) {
      await recordNodePull(db, node.id, context.now, read.error)
      results.push(failed(node, read.error))
      continue
    }
    const record = await recordPull(
      db,
      node,
      read.snapshot,
      read.observedAt,
      context,
      read.lifetime,
      read.hostInterface,
    )
    // After the commit: the push is queued with the usage, so a receiver that is down loses nothing.
    const push = node.inform_url === null ? null : await deliverPushes(db, node)
    results.push({...succeeded(node, record, read.snapshot), push})
  }
  return {nodes: results}
}

/** Some nodes (3x-ui) have no counters to read: they POST their traffic to `sbq serve`. */
function reportsItself(node: NodeRow): boolean {
  return driverOf(node).traffic === 'pushed'
}

function pullable(node: NodeRow): NodeRow {
  if (reportsItself(node)) {
    throw invalidInput(
      'NODE_NOT_PULLED',
      `node "${node.name}" reports its own traffic and cannot be pulled`,
      'its traffic arrives through sbq serve; see: sbq node show ' + node.name,
    )
  }
  return node
}

async function readNode(
  node: NodeRow,
): Promise<
  | {snapshot: StatsSnapshot; observedAt: number; lifetime: CounterLifetime; hostInterface: InterfaceSample | null}
  | {error: string}
> {
  try {
    const api = await connectNode(node)
    try {
      // The real clock, not the context's: it is compared with the proxy's own uptime to spot restarts.
      const observedAt = Date.now()
      const snapshot = await api.readStats()
      return {snapshot, observedAt, lifetime: api.counterLifetime, hostInterface: sampleInterface(node)}
    } finally {
      api.close()
    }
  } catch (error) {
    if (error instanceof SbqError) return {error: error.message}
    throw error
  }
}

function succeeded(node: NodeRow, record: PullRecord, snapshot: StatsSnapshot): Omit<NodePull, 'push'> {
  return {
    name: node.name,
    ok: true,
    users: record.users,
    unmanaged: record.unmanaged,
    up: record.up,
    down: record.down,
    billedUp: record.billedUp,
    billedDown: record.billedDown,
    uptime: snapshot.uptimeSeconds,
    baseline: record.baselineOnly,
    restarted: record.restarted,
    error: null,
    drift: record.drift,
  }
}

function failed(node: NodeRow, error: string): NodePull {
  return {
    name: node.name,
    ok: false,
    users: 0,
    unmanaged: 0,
    up: 0,
    down: 0,
    billedUp: 0,
    billedDown: 0,
    uptime: null,
    baseline: false,
    restarted: false,
    error,
    push: null,
    drift: null,
  }
}
