import {pullNodes} from '../accounting/pull.js'
import type {Context} from '../context.js'
import {listNodes} from '../db/nodes-repository.js'
import type {Db} from '../db/open-database.js'
import {listUserRecords} from '../db/users-repository.js'
import {requireNode} from '../nodes/node-service.js'
import {credentialsOf} from '../users/user-service.js'
import {syncNode, type DesiredState, type NodeSync} from './node-sync.js'

export async function desiredState(db: Db): Promise<DesiredState> {
  const records = await listUserRecords(db)
  return {
    active: records.filter((record) => record.status === 'active').map((record) => ({name: record.name, credentials: credentialsOf(record)})),
    managed: new Set(records.map((record) => record.name)),
  }
}

/** Brings every node (or one) in line with the database; one node's failure never stops the others. */
export async function syncNodes(db: Db, options: {node?: string; full?: boolean; dryRun?: boolean}, context: Context): Promise<NodeSync[]> {
  const nodes = options.node === undefined ? await listNodes(db) : [await requireNode(db, options.node)]
  const desired = await desiredState(db)
  const results: NodeSync[] = []
  for (const node of nodes) {
    const pullNode = async () => {
      await pullNodes(db, {node: node.name}, context)
    }
    results.push(await syncNode(db, node, desired, {full: options.full, dryRun: options.dryRun, pullNode}, context))
  }
  return results
}
