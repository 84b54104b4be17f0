/**
 * How Xray and V2Ray nodes change users: live through HandlerService, with the config file rewritten to match so a
 * restart keeps the change; a restart (through the apply command) when the live path fails or sessions must be cut.
 */
import {readConfigText} from '../../config-file/read-config.js'
import {replaceConfigFile} from '../../config-file/replace-config.js'
import {allowedOn} from '../../domain/traffic.js'
import {SbqError, unreachable} from '../../errors.js'
import type {ChangeHost, ChangeOutcome, InboundTarget, LiveProtocol, ProxyApi, UserChange} from '../proxy-driver.js'
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
  try {
    await applyLive(node.name, await connect(), rewrite, change)
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
  return {method: restart ? 'live+restart' : 'live'}
}

const liveProtocols: ReadonlySet<string> = new Set<LiveProtocol>(['vmess', 'vless', 'trojan', 'shadowsocks'])

/**
 * Makes the running proxy hold what the rewritten config holds. An inbound about to lose its last user gets the
 * config's placeholder first, and one getting a real user back loses it last, so no inbound is empty at any moment.
 */
async function applyLive(
  nodeName: string,
  api: ProxyApi,
  rewrite: Pick<XrayRewrite, 'inbounds' | 'placeholder'>,
  change: UserChange,
): Promise<void> {
  try {
    if (!api.addUser || !api.removeUser)
      throw unreachable(
        'NO_LIVE_API',
        `node "${nodeName}" has no live user API`,
        'sbq falls back to rewriting its config and restarting it',
      )
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
      if (inbound.placeholder === 'added') await api.addUser(target, rewrite.placeholder)
      await forEachLimited([...change.removed, ...excluded], (name) => api.removeUser!(target, name))
      await forEachLimited(
        change.added.filter((user) => allowedOn(user, inbound.tag)),
        (user) => api.addUser!(target, user),
      )
      if (inbound.placeholder === 'removed') await api.removeUser(target, rewrite.placeholder.name)
    }
  } finally {
    api.close()
  }
}
