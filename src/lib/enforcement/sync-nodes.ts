import {pullNodes} from '../accounting/pull.js'
import type {Context} from '../context.js'
import {listNodes} from '../db/nodes-repository.js'
import type {Db} from '../db/open-database.js'
import {listUserStatuses, readCredentials} from '../db/users-repository.js'
import type {ManagedUser} from '../proxies/proxy-driver.js'
import {requireNode} from '../nodes/node-service.js'
import {settingValue} from '../settings/settings.js'
import {inboundChoiceMap} from './inbound-choices.js'
import {syncNode, type DesiredState, type NodeSync} from './node-sync.js'

export async function desiredState(db: Db): Promise<DesiredState> {
  const records = await listUserStatuses(db)
  const active = records.filter((record) => record.status === 'active').map((record) => record.name)
  let users: Promise<ManagedUser[]> | undefined
  return {
    active,
    managed: new Set(records.map((record) => record.name)),
    // Secrets are read once, and only when some node has to change.
    users: () =>
      (users ??= Promise.all([readCredentials(db), inboundChoiceMap(db)]).then(([credentials, choices]) =>
        active.map((name) => ({name, credentials: credentials.get(name)!, inbounds: choices.get(name) ?? null})),
      )),
  }
}

/**
 * Brings every node (or one, or those named in `only`: a check's locked nodes) in line with the database; one node's
 * failure never stops the others.
 */
export async function syncNodes(
  db: Db,
  options: {node?: string; only?: readonly string[]; full?: boolean; dryRun?: boolean},
  context: Context,
): Promise<NodeSync[]> {
  const only = options.only === undefined ? undefined : new Set(options.only)
  const nodes =
    options.node === undefined
      ? (await listNodes(db)).filter((node) => only === undefined || only.has(node.name))
      : [await requireNode(db, options.node)]
  if (nodes.length === 0) return []
  // Read once, and only when some node differs from what it was last given.
  let desired: Promise<DesiredState> | undefined
  const loadDesired = () => (desired ??= desiredState(db))
  const validateAlways = (await settingValue(db, 'validate-config')) === 'always'
  const results: NodeSync[] = []
  for (const node of nodes) {
    const pullNode = async () => {
      await pullNodes(db, {node: node.name}, context)
    }
    results.push(
      await syncNode(
        db,
        node,
        loadDesired,
        {full: options.full, dryRun: options.dryRun, pullNode, validateAlways},
        context,
      ),
    )
  }
  return results
}
