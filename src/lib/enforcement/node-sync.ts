import {counterUser} from '../accounting/counter-values.js'
import type {Context} from '../context.js'
import {findValidator} from '../config-file/find-validator.js'
import {replaceConfigFile} from '../config-file/replace-config.js'
import {appliedUsers, nodeDifference, recordAppliedUsers} from '../db/node-users-repository.js'
import type {Db} from '../db/open-database.js'
import type {NodeRow} from '../db/schema.js'
import {SbqError, unreachable} from '../errors.js'
import {connectNode} from '../nodes/connect.js'
import {managedInboundTags, readConfigText, ssmMethod} from '../nodes/node-config.js'
import type {InboundTarget, LiveProtocol, ManagedUser, ProxyApi} from '../proxies/proxy-api.js'
import type {XrayRewrite} from '../proxies/xray/config.js'

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

const applyTimeoutMs = 60_000
const liveConcurrency = 16

/**
 * Puts one node in line with the desired state: only the difference from what sbq last applied there, so untouched
 * nodes cost nothing. Never throws for the node's own failures: they come back as `error` and the next run retries,
 * because the applied set is only recorded after success.
 */
export async function syncNode(db: Db, node: NodeRow, loadDesired: () => Promise<DesiredState>, options: SyncOptions, context: Context): Promise<NodeSync> {
  const fresh = options.full === true || node.synced_at === null || (await ssmLostUsers(db, node))
  if (!fresh) {
    const difference = await nodeDifference(db, node.id)
    if (difference.missing.length === 0 && difference.surplus.length === 0) {
      return {name: node.name, applied: false, method: 'none', added: [], removed: [], error: null, hint: null, warning: null}
    }
  }
  const desired = await loadDesired()
  const applied = await appliedUsers(db, node.id)
  const wanted = new Set(desired.active)
  const addedNames = desired.active.filter((name) => fresh || !applied.has(name))
  const removed = [...new Set([...applied, ...(fresh ? desired.managed : [])])].filter((name) => !wanted.has(name)).sort()
  const result: NodeSync = {name: node.name, applied: false, method: 'none', added: [...addedNames].sort(), removed, error: null, hint: null, warning: null}
  if (!fresh && addedNames.length === 0 && removed.length === 0) return result
  if (options.dryRun) return {...result, applied: true, method: 'dry-run'}
  if (node.type === '3x-ui' && node.panel_url === null) {
    // Told once per change, not every minute: the operator acts in the panel, and cron mails only what is new.
    await recordAppliedUsers(db, node.id, wanted, context.now)
    return {...result, applied: true, method: 'report-only', warning: reportOnlyWarning(node, result)}
  }
  try {
    const active = await desired.users()
    const adding = new Set(addedNames)
    const change: NodeChange = {node, added: active.filter((user) => adding.has(user.name)), removed, active, managed: new Set([...desired.managed, ...applied])}
    const outcome =
      node.type === 'sing-box' ? await syncSingBox(change, options)
      : node.type === 'sing-box-ssm' ? await syncSsm(change, options)
      : node.type === '3x-ui' ? await syncPanel(change)
      : await syncXray(change, options)
    await recordAppliedUsers(db, node.id, wanted, context.now)
    return {...result, applied: true, ...outcome}
  } catch (error) {
    if (!(error instanceof SbqError)) throw error
    return {...result, error: error.message, hint: error.hint ?? null}
  }
}

/**
 * sing-box without a cache file forgets the SSM users at every restart, and nothing in sbq's own records changes
 * then. The stats reply lists every user the server has, so a managed user missing from it means the node needs
 * everything again. An unreachable API says nothing here: the pull has already reported it.
 */
async function ssmLostUsers(db: Db, node: NodeRow): Promise<boolean> {
  if (node.type !== 'sing-box-ssm' || node.synced_at === null) return false
  const applied = await appliedUsers(db, node.id)
  if (applied.size === 0) return false
  let present: Set<string | undefined>
  try {
    const api = await connectNode(node)
    try {
      present = new Set((await api.readStats()).counters.map((counter) => counterUser(counter.name)))
    } finally {
      api.close()
    }
  } catch (error) {
    if (error instanceof SbqError) return false
    throw error
  }
  for (const name of applied) if (!present.has(name)) return true
  return false
}

interface NodeChange {
  node: NodeRow
  added: ManagedUser[]
  removed: string[]
  /** Every active user, with credentials. */
  active: ManagedUser[]
  managed: ReadonlySet<string>
}

function requireConfig(node: NodeRow): string {
  if (node.config_path === null) {
    throw unreachable('NODE_HAS_NO_CONFIG', `node "${node.name}" has no proxy config to rewrite`, `sbq node remove ${node.name}, then add it again with --config PATH`)
  }
  return node.config_path
}

/**
 * A reload or restart usually zeroes the proxy's counters. Reading them again right away lets the ledger's own
 * restart detection (counters gone down or vanished, a new uptime) decide, rather than assuming it: an apply command
 * that left the counters as they were must not have everything billed a second time.
 */
async function afterRestart(node: NodeRow, options: SyncOptions): Promise<void> {
  await options.pullNode(node)
}

function applySpec(node: NodeRow) {
  if (node.apply_command === null) {
    throw unreachable('NODE_HAS_NO_APPLY', `node "${node.name}" has no apply command to load its new config`, 'add the node again with --apply "systemctl restart xray" (or what loads its config)')
  }
  return {command: node.apply_command, timeoutMs: applyTimeoutMs}
}

async function syncSingBox(change: NodeChange, options: SyncOptions): Promise<Partial<NodeSync>> {
  const {node} = change
  const path = requireConfig(node)
  const {rewriteSingBoxUsers} = await import('../proxies/sing-box/config.js')
  const text = await readConfigText(path)
  const rewrite = rewriteSingBoxUsers(text, {inbounds: managedInboundTags(node), desired: change.active, managedNames: change.managed, source: path})
  if (!rewrite.changed) return {method: 'none'}
  await options.pullNode(node)
  await replaceConfigFile({path, newText: rewrite.text, basedOn: text, validate: findValidator('sing-box'), apply: applySpec(node)})
  await afterRestart(node, options)
  return {method: 'config+reload'}
}

async function syncSsm(change: NodeChange, options: SyncOptions): Promise<Partial<NodeSync>> {
  // sing-box drops a deleted user's counters with the user (service/ssmapi traffic.go UpdateUsers): bill them first,
  // so nothing counted before the change is lost and a re-added user's counter, from 0, is all new traffic.
  await options.pullNode(change.node)
  const api = await connectNode(change.node)
  try {
    // The key length follows the managed inbound's method (a 2022-blake3-aes-128-gcm server wants 16 bytes).
    const inbound: InboundTarget = {tag: 'ssm', protocol: 'shadowsocks', method: await ssmMethod(change.node.config_path)}
    await forEachLimited(change.removed, (name) => api.removeUser!(inbound, name))
    await forEachLimited(change.added, (user) => api.addUser!(inbound, user))
    await api.confirmUsers?.(inbound, {present: change.added, absent: change.removed})
    return {method: 'api'}
  } finally {
    api.close()
  }
}

function reportOnlyWarning(node: NodeRow, result: NodeSync): string | null {
  const parts = [
    result.removed.length > 0 ? `over quota, expired or disabled but still enabled there: ${result.removed.join(', ')}` : '',
    result.added.length > 0 ? `active again: ${result.added.join(', ')}` : '',
  ].filter(Boolean)
  if (parts.length === 0) return null
  return `3x-ui node "${node.name}" has no panel login, so sbq could not act; ${parts.join('; ')} (switch them in the panel, or add the node again with --panel-url, --panel-user and --panel-password)`
}

/** Switches clients off and on through the panel: sbq never creates or deletes 3x-ui clients, it only sets `enable`. */
async function syncPanel(change: NodeChange): Promise<Partial<NodeSync>> {
  const {node} = change
  const {openPanel} = await import('../proxies/3x-ui/panel-client.js')
  const panel = await openPanel({url: node.panel_url!, user: node.panel_user ?? '', password: node.panel_password ?? ''})
  try {
    const wanted = new Map<string, boolean>([...change.removed.map((name) => [name, false] as const), ...change.added.map((user) => [user.name, true] as const)])
    const {missing} = await panel.setEnabled(wanted)
    const notThere = change.removed.filter((name) => missing.has(name))
    return {method: 'panel', warning: notThere.length > 0 ? `not in the 3x-ui panel, nothing to switch off: ${notThere.join(', ')}` : null}
  } finally {
    panel.close()
  }
}

async function syncXray(change: NodeChange, options: SyncOptions): Promise<Partial<NodeSync>> {
  const {node} = change
  const path = requireConfig(node)
  const flavor = node.type === 'v2ray' ? 'v2ray' : 'xray'
  const {rewriteXrayUsers} = await import('../proxies/xray/config.js')
  const text = await readConfigText(path)
  const rewrite = rewriteXrayUsers(text, {flavor, inbounds: managedInboundTags(node), desired: change.active, managedNames: change.managed, source: path})

  let liveError: string | null = null
  try {
    await applyLive(node, rewrite, change)
  } catch (error) {
    if (!(error instanceof SbqError)) throw error
    liveError = error.message
  }
  // Removal through the API leaves open connections running; a restart is the only way to end them.
  const restart = liveError !== null || (node.cut_sessions === 1 && change.removed.length > 0)
  if (restart) await options.pullNode(node)
  const validate = restart || options.validateAlways === true ? findValidator(flavor) : null
  const replaced = await replaceConfigFile({path, newText: rewrite.text, basedOn: text, validate, apply: restart ? applySpec(node) : null})
  if (restart && !replaced.applied) await runApplyCommand(node)
  if (restart) await afterRestart(node, options)
  if (liveError !== null) return {method: 'config+restart', warning: `live update failed (${liveError}); rewrote the config and restarted the proxy instead`}
  return {method: restart ? 'live+restart' : 'live'}
}

async function runApplyCommand(node: NodeRow): Promise<void> {
  const {runCommand, errorLine} = await import('../config-file/run-command.js')
  const spec = applySpec(node)
  const result = await runCommand(['/bin/sh', '-c', spec.command], {timeoutMs: spec.timeoutMs})
  if (result.exitCode !== 0 || result.timedOut) {
    throw unreachable('APPLY_FAILED', `node "${node.name}": "${spec.command}" failed: ${errorLine(result, 'first')}`, 'run it by hand to see why')
  }
}

const liveProtocols: ReadonlySet<string> = new Set<LiveProtocol>(['vmess', 'vless', 'trojan', 'shadowsocks'])

/**
 * Makes the running proxy hold what the rewritten config holds. An inbound about to lose its last user gets the
 * config's placeholder first, and one getting a real user back loses it last, so no inbound is empty at any moment.
 */
async function applyLive(node: NodeRow, rewrite: Pick<XrayRewrite, 'inbounds' | 'placeholder'>, change: NodeChange): Promise<void> {
  const api: ProxyApi = await connectNode(node)
  try {
    if (!api.addUser || !api.removeUser) throw unreachable('NO_LIVE_API', `node "${node.name}" has no live user API`, 'sbq falls back to rewriting its config and restarting it')
    for (const inbound of rewrite.inbounds) {
      if (!liveProtocols.has(inbound.protocol)) continue
      const target: InboundTarget = {tag: inbound.tag, protocol: inbound.protocol as LiveProtocol, flow: inbound.flow, method: inbound.method}
      if (inbound.placeholder === 'added') await api.addUser(target, rewrite.placeholder)
      await forEachLimited(change.removed, (name) => api.removeUser!(target, name))
      await forEachLimited(change.added, (user) => api.addUser!(target, user))
      if (inbound.placeholder === 'removed') await api.removeUser(target, rewrite.placeholder.name)
    }
  } finally {
    api.close()
  }
}

/** Runs the calls a few at a time: one node, many users, without opening a stream per user at once. */
async function forEachLimited<T>(items: readonly T[], call: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await call(items[next++]!)
  }
  await Promise.all(Array.from({length: Math.min(liveConcurrency, items.length)}, worker))
}
