/**
 * sing-box built with `experimental.v2ray_api`: counters over the V2Ray-family gRPC API, which has no user calls, so
 * users change by rewriting the config and reloading (sing-box re-reads its config on SIGHUP).
 */
import {readConfigText} from '../../config-file/read-config.js'
import {replaceConfigFile} from '../../config-file/replace-config.js'
import type {ChangeHost, ChangeOutcome, ProxyDriver, UserChange} from '../proxy-driver.js'
import {applySpec, managedInboundTags, requireConfig} from '../shared/config-sync.js'
import {findValidator} from '../shared/find-validator.js'
import {probeApi} from '../shared/probe-api.js'
import {readSingBoxShareInbounds, rewriteSingBoxUsers} from '../shared/sing-box-config.js'
import {readSingBoxInbounds} from '../shared/sing-box-inbounds.js'
import {connectV2rayApi} from '../shared/v2ray-api/connect.js'

export const singBoxDriver: ProxyDriver = {
  type: 'sing-box',
  traffic: 'pulled',
  defaultApplyCommand: 'systemctl reload sing-box',
  onlineIps: false,
  connect: (node, timeoutMs) => connectV2rayApi('sing-box', node, timeoutMs),
  readConfigInbounds: readSingBoxInbounds,
  readShareInbounds: (text, source, inbounds) => readSingBoxShareInbounds(text, {inbounds, source}),
  applyUsers: rewriteAndReload,
  probe: async (node) => probeApi(await connectV2rayApi('sing-box', node)),
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
  await replaceConfigFile({
    path,
    newText: rewrite.text,
    basedOn: text,
    validate: findValidator('sing-box'),
    apply: applySpec(node),
  })
  // A reload usually zeroes the counters; reading them again lets the ledger's restart detection decide.
  await host.pullNode()
  return {method: 'config+reload'}
}
