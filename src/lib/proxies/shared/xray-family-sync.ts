/**
 * How Xray and V2Ray nodes change users: live through HandlerService, with the config file rewritten to match so a
 * restart keeps the change; a restart (through the apply command) when the live path fails or sessions must be cut.
 */
import {readConfigText} from '../../config-file/read-config.js'
import {replaceConfigFile} from '../../config-file/replace-config.js'
import {allowedOn} from '../../domain/traffic.js'
import {SbqError, unreachable} from '../../errors.js'
import type {
  ChangeHost,
  ChangeOutcome,
  ExpectedUsers,
  InboundTarget,
  LiveProtocol,
  ProxyApi,
  UserChange,
} from '../proxy-driver.js'
import {applySpec, forEachLimited, managedInboundTags, requireConfig, runApplyCommand} from './config-sync.js'
import {findValidator} from './find-validator.js'
import {rewriteXrayUsers, type XrayFlavor, type XrayRewrite} from './xray-config.js'

export async function applyXrayFamilyUsers(
  flavor: XrayFlavor,
  connect: () => Promise<ProxyApi>,
  change: UserChange,
  host: ChangeHost,
): Promise<ChangeOutcome> {
  const {node} = change
  const path = requireConfig(node)
  const text = await readConfigText(path)
  const rewrite = rewriteXrayUsers(text, {
    flavor,
    inbounds: managedInboundTags(node),
    desired: change.active,
    managedNames: change.managed,
    source: path,
  })

  let liveError: string | null = null
  let confirmation: Confirmation = {refused: null, unconfirmable: null}
  try {
    confirmation = await applyLive(node.name, await connect(), rewrite, change)
  } catch (error) {
    if (!(error instanceof SbqError)) throw error
    liveError = error.message
  }
  // Removal through the API leaves open connections running; a restart is the only way to end them.
  // A user with an inbound choice may have been taken off inbounds too: their sessions there are cut as well.
  const takenOff = change.removed.length > 0 || change.added.some((user) => (user.inbounds ?? null) !== null)
  const restart = liveError !== null || (node.cut_sessions === 1 && takenOff)
  if (restart) await host.pullNode()
  const validate = restart || host.validateAlways ? findValidator(flavor) : null
  const replaced = await replaceConfigFile({
    path,
    newText: rewrite.text,
    basedOn: text,
    validate,
    apply: restart ? applySpec(node) : null,
  })
  if (restart && !replaced.applied) await runApplyCommand(node)
  // A restart usually zeroes the counters. Reading them again right away lets the ledger's own restart detection
  // decide, rather than assuming it: an apply command that left them as they were must not bill everything twice.
  if (restart) await host.pullNode()
  if (liveError !== null)
    return {
      method: 'config+restart',
      warning: `live update failed (${liveError}); rewrote the config and restarted the proxy instead`,
    }
  // The config on disk no longer holds a user the running proxy kept: a restart would end it, and without one the
  // node's error leaves the user recorded as still there, so the next check removes them again.
  if (confirmation.refused !== null && !restart) throw confirmation.refused
  return {method: restart ? 'live+restart' : 'live', warning: confirmation.unconfirmable}
}

/** What reading the users back after a live change found. */
interface Confirmation {
  /** The node kept a user sbq removed (or lacks one it added): the node's error. */
  refused: SbqError | null
  /** Why nothing could be read back (an Xray before GetInboundUsers): told with the change, not an error. */
  unconfirmable: string | null
}

const liveProtocols: ReadonlySet<string> = new Set<LiveProtocol>([
  'vmess',
  'vless',
  'trojan',
  'shadowsocks',
  'hysteria',
])

/**
 * Makes the running proxy hold what the rewritten config holds. An inbound about to lose its last user gets the
 * config's placeholder first, and one getting a real user back loses it last, so no inbound is empty at any moment.
 * Then reads each changed inbound's users back once, where the proxy can list them.
 */
async function applyLive(
  nodeName: string,
  api: ProxyApi,
  rewrite: Pick<XrayRewrite, 'inbounds' | 'placeholder'>,
  change: UserChange,
): Promise<Confirmation> {
  try {
    if (!api.addUser || !api.removeUser)
      throw unreachable(
        'NO_LIVE_API',
        `node "${nodeName}" has no live user API`,
        'sbq falls back to rewriting its config and restarting it',
      )
    const checks: Array<{target: InboundTarget; expected: ExpectedUsers}> = []
    for (const inbound of rewrite.inbounds) {
      if (!liveProtocols.has(inbound.protocol)) continue
      const target: InboundTarget = {
        tag: inbound.tag,
        protocol: inbound.protocol as LiveProtocol,
        flow: inbound.flow,
        method: inbound.method,
      }
      // A user whose inbound choice leaves this inbound out is taken off it (a no-op where they are not on it).
      const excluded = change.added.filter((user) => !allowedOn(user, inbound.tag)).map((user) => user.name)
      const placed = change.added.filter((user) => allowedOn(user, inbound.tag))
      const absent = [...change.removed, ...excluded]
      if (inbound.placeholder === 'added') await api.addUser(target, rewrite.placeholder)
      await forEachLimited(absent, (name) => api.removeUser!(target, name))
      await forEachLimited(placed, (user) => api.addUser!(target, user, inbound.levels.get(user.name) ?? 0))
      if (inbound.placeholder === 'removed') await api.removeUser(target, rewrite.placeholder.name)
      if (absent.length > 0 || placed.length > 0) checks.push({target, expected: {present: placed, absent}})
    }
    return await confirmLive(api, checks)
  } finally {
    api.close()
  }
}

/** One read per changed inbound, whatever the batch's size; the refusals of every inbound make one message. */
async function confirmLive(
  api: ProxyApi,
  checks: ReadonlyArray<{target: InboundTarget; expected: ExpectedUsers}>,
): Promise<Confirmation> {
  if (api.confirmUsers === undefined || checks.length === 0) return {refused: null, unconfirmable: null}
  const refusals: SbqError[] = []
  for (const {target, expected} of checks) {
    try {
      await api.confirmUsers(target, expected)
    } catch (error) {
      if (!(error instanceof SbqError)) throw error
      if (error.code === 'NODE_API_UNIMPLEMENTED')
        return {
          refused: null,
          unconfirmable: `the proxy cannot list an inbound's users (GetInboundUsers needs Xray v24.11.5 or later), so sbq could not check that the change took`,
        }
      if (error.code !== 'NODE_CHANGE_NOT_APPLIED') return {refused: error, unconfirmable: null}
      refusals.push(error)
    }
  }
  if (refusals.length === 0) return {refused: null, unconfirmable: null}
  const [first] = refusals
  if (refusals.length === 1) return {refused: first!, unconfirmable: null}
  return {
    refused: unreachable('NODE_CHANGE_NOT_APPLIED', refusals.map((refusal) => refusal.message).join('; '), first!.hint),
    unconfirmable: null,
  }
}
