import type {Context} from '../context.js'
import {appliedUsers, nodeDifference, recordAppliedUsers} from '../db/node-users-repository.js'
import type {Db} from '../db/open-database.js'
import type {NodeRow} from '../db/schema.js'
import {SbqError} from '../errors.js'
import type {ManagedUser, UserChange} from '../proxies/proxy-driver.js'
import {driverOf} from '../proxies/registry.js'
import {inboundChoiceMap} from './inbound-choices.js'

export interface NodeSync {
  name: string
  /** Whether the node was changed (or, with --dry-run, would be); with report-only, whether the operator was told. */
  applied: boolean
  /**
   * How: live (API), live+restart (--cut-sessions), config+reload (sing-box), config+restart (fallback), api (SSM),
   * panel (3x-ui panel API), report-only (3x-ui without panel login: told in `warning`, nothing changed).
   */
  method: string
  added: string[]
  removed: string[]
  error: string | null
  /** What to do about `error`, when sbq knows ("fix the file by hand", "copy the backup over it"). */
  hint: string | null
  warning: string | null
}

export interface DesiredState {
  /** Every active user's name: exactly who the managed inbounds must carry. */
  active: readonly string[]
  /** Every name sbq manages, whatever its status; the proxies' other users are never touched. */
  managed: ReadonlySet<string>
  /** The active users with their credentials, read only when a node has to change. */
  users: () => Promise<ManagedUser[]>
}

export interface SyncOptions {
  dryRun?: boolean
  /** Push the whole desired set, as if the node had never been synced (`sbq node sync`). */
  full?: boolean
  /** Reads the node's counters into the ledger; called right before a reload or restart zeroes them. */
  pullNode: (node: NodeRow) => Promise<void>
  /**
   * Run the proxy's checker even on a config the proxy does not load now (a live Xray/V2Ray change). Off by default:
   * `v2ray -test` takes 3 s on a 10k-client config and 32 s and 3 GB on a 100k one, while sbq only swaps user lists.
   */
  validateAlways?: boolean
}

/**
 * Puts one node in line with the desired state: only the difference from what sbq last applied there, so untouched
 * nodes cost nothing. Never throws for the node's own failures: they come back as `error` and the next run retries,
 * because the applied set is only recorded after success.
 */
export async function syncNode(
  db: Db,
  node: NodeRow,
  loadDesired: () => Promise<DesiredState>,
  options: SyncOptions,
  context: Context,
): Promise<NodeSync> {
  const driver = driverOf(node)
  const fresh =
    options.full === true ||
    node.synced_at === null ||
    (driver.lostUsers !== undefined &&
      (await driver.lostUsers(node, await appliedUsers(db, node.id), await inboundChoiceMap(db))))
  if (!fresh) {
    const difference = await nodeDifference(db, node.id)
    if (difference.missing.length === 0 && difference.surplus.length === 0) {
      return {
        name: node.name,
        applied: false,
        method: 'none',
        added: [],
        removed: [],
        error: null,
        hint: null,
        warning: null,
      }
    }
  }
  const desired = await loadDesired()
  const applied = await appliedUsers(db, node.id)
  const wanted = new Set(desired.active)
  const addedNames = desired.active.filter((name) => fresh || !applied.has(name))
  const removed = [...new Set([...applied, ...(fresh ? desired.managed : [])])]
    .filter((name) => !wanted.has(name))
    .sort()
  const result: NodeSync = {
    name: node.name,
    applied: false,
    method: 'none',
    added: [...addedNames].sort(),
    removed,
    error: null,
    hint: null,
    warning: null,
  }
  if (!fresh && addedNames.length === 0 && removed.length === 0) return result
  if (options.dryRun) return {...result, applied: true, method: 'dry-run'}
  try {
    const active = await desired.users()
    const adding = new Set(addedNames)
    const change: UserChange = {
      node,
      added: active.filter((user) => adding.has(user.name)),
      removed,
      active,
      managed: new Set([...desired.managed, ...applied]),
    }
    const outcome = await driver.applyUsers(change, {
      pullNode: () => options.pullNode(node),
      validateAlways: options.validateAlways === true,
    })
    // A report-only node is told once per change, not every minute: the operator acts, and cron mails only what is new.
    await recordAppliedUsers(db, node.id, wanted, context.now)
    return {...result, applied: true, method: outcome.method, warning: outcome.warning ?? null}
  } catch (error) {
    if (!(error instanceof SbqError)) throw error
    return {...result, error: error.message, hint: error.hint ?? null}
  }
}
