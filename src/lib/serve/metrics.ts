import type {Context} from '../context.js'
import {informPushesByNode} from '../db/inform-outbox-repository.js'
import {listNodes} from '../db/nodes-repository.js'
import type {Db} from '../db/open-database.js'
import {listUserRecords} from '../db/users-repository.js'
import {userStatuses, type UserStatus} from '../db/schema.js'
import {toUserView} from '../domain/user.js'

export interface UserMetrics {
  name: string
  status: UserStatus
  periodUp: number
  periodDown: number
  /** Bytes allowed this period, top-ups included; 0 is unlimited. */
  allowance: number
}

export interface NodeMetrics {
  name: string
  type: string
  /** Last pull or 3x-ui report, epoch ms. */
  lastReportAt: number | null
  countedUp: number
  countedDown: number
  /** Pushes waiting for the central receiver (nodes with an inform URL). */
  queuedPushes: number | null
  /** Reports refused whole (too large, not the inform shape, wrong token, sbq's own failure). */
  refusedReports: number
  /** New unmanaged names turned away over unmanaged-names-limit. */
  refusedNames: number
  /** The last refusal of either kind, epoch ms. */
  lastRefusedAt: number | null
  /** Its host interface's counters at the last pull (drift), when it has one and a pull read them. */
  hostInterface: {name: string; rx: number; tx: number} | null
}

export interface Metrics {
  users: UserMetrics[]
  nodes: NodeMetrics[]
  statuses: readonly UserStatus[]
}

/** What /metrics shows, read at scrape time; periods roll over as `sbq user list` shows them. */
export async function collectMetrics(db: Db, context: Context): Promise<Metrics> {
  const [records, nodes, queuedByNode] = await Promise.all([listUserRecords(db), listNodes(db), informPushesByNode(db)])
  return {
    users: records.map((record) => {
      const view = toUserView(record, context)
      return {
        name: view.name,
        status: view.status,
        periodUp: view.periodUp,
        periodDown: view.periodDown,
        allowance: view.allowance,
      }
    }),
    nodes: nodes.map((node) => ({
      name: node.name,
      type: node.type,
      lastReportAt: node.last_pull_at,
      countedUp: node.counted_up,
      countedDown: node.counted_down,
      queuedPushes: node.inform_url === null ? null : (queuedByNode.get(node.id) ?? 0),
      refusedReports: node.refused_reports,
      refusedNames: node.refused_names,
      lastRefusedAt: node.last_refused_at,
      hostInterface:
        node.host_interface === null || node.interface_rx === null || node.interface_tx === null
          ? null
          : {name: node.host_interface, rx: node.interface_rx, tx: node.interface_tx},
    })),
    statuses: userStatuses,
  }
}
