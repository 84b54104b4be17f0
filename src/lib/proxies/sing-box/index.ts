/**
 * sing-box built with `experimental.v2ray_api`: counters over the V2Ray-family gRPC API, which has no user calls, so
 * users change by rewriting the config and reloading (sing-box re-reads its config on SIGHUP).
 */
import {performance} from 'node:perf_hooks'
import {readConfigText} from '../../config-file/read-config.js'
import {replaceConfigFile} from '../../config-file/replace-config.js'
import type {ChangeHost, ChangeOutcome, ProxyDriver, ProxyNode, UserChange} from '../proxy-driver.js'
import {applySpec, managedInboundTags, requireConfig} from '../shared/config-sync.js'
import {findValidator} from '../shared/find-validator.js'
import {probeApi} from '../shared/probe-api.js'
import {readSingBoxShareInbounds, rewriteSingBoxUsers} from '../shared/sing-box-config.js'
import {readSingBoxInbounds} from '../shared/sing-box-inbounds.js'
import {connectV2rayApi} from '../shared/v2ray-api/connect.js'
import type {V2rayApi} from '../shared/v2ray-api/index.js'
import {addSsmNodeHint, explainUnanswered, pathBuildWithoutV2rayApi} from './build.js'
import {confirmReload, readSettledUptime} from './reload-check.js'

export const singBoxDriver: ProxyDriver = {
  type: 'sing-box',
  traffic: 'pulled',
  defaultApplyCommand: 'systemctl reload sing-box',
  onlineIps: false,
  connect: (node, timeoutMs) => connectV2rayApi('sing-box', node, timeoutMs),
  readConfigInbounds: readSingBoxInbounds,
  readShareInbounds: (text, source, inbounds) => readSingBoxShareInbounds(text, {inbounds, source}),
  applyUsers: rewriteAndReload,
  probe: async (node) => {
    try {
      return await probeApi(await connectV2rayApi('sing-box', node))
    } catch (error) {
      throw await explainUnanswered(node, error)
    }
  },
  buildAdvice: async (node) => {
    const note = await pathBuildWithoutV2rayApi()
    return note === null ? null : `node "${node.name}": ${note} (${addSsmNodeHint})`
  },
}

async function rewriteAndReload(change: UserChange, host: ChangeHost): Promise<ChangeOutcome> {
  const {node} = change
  const path = requireConfig(node)
  const text = await readConfigText(path)
  const rewrite = rewriteSingBoxUsers(text, {
    inbounds: managedInboundTags(node),
    desired: change.active,
    managedNames: change.managed,
    source: path,
  })
  if (!rewrite.changed) return {method: 'none'}
  await host.pullNode()
  const open = (timeoutMs?: number) => openStats(node, timeoutMs)
  // Read after the pull, as close to the reload as sbq can: the instance the reload must replace.
  const before = await readSettledUptime(open)
  const validate = findValidator('sing-box')
  const apply = applySpec(node)
  // Before the check and the write, so earlier than the reload: a bound that is only ever looser, never wrong.
  const applyStartedAt = performance.now()
  await replaceConfigFile({
    path,
    newText: rewrite.text,
    basedOn: text,
    validate,
    apply: {
      ...apply,
      confirm: () =>
        confirmReload({command: apply.command, before, applyStartedAt, validated: validate !== null, open}),
    },
  })
  // The new instance counts from 0 (its stats service is new): the ledger sees the restart and bills from there.
  await host.pullNode()
  return {method: 'config+reload'}
}

async function openStats(node: ProxyNode, timeoutMs?: number): Promise<V2rayApi> {
  const {createV2rayApi} = await import('../shared/v2ray-api/index.js')
  return createV2rayApi({flavor: 'sing-box', address: node.api, timeoutMs})
}
