import type {ProxyDriver} from '../proxy-driver.js'
import {probeApi} from '../shared/probe-api.js'
import {connectV2rayApi} from '../shared/v2ray-api/connect.js'
import {readXrayShareInbounds, readXrayUsers} from '../shared/xray-config.js'
import {applyXrayFamilyUsers} from '../shared/xray-family-sync.js'

/** V2Ray 4.x: Xray's ancestor, the same gRPC services under v2ray.core names, no online IPs. */
export const v2rayDriver: ProxyDriver = {
  type: 'v2ray',
  traffic: 'pulled',
  defaultApplyCommand: 'systemctl restart v2ray',
  onlineIps: false,
  connect: (node, timeoutMs) => connectV2rayApi('v2ray', node, timeoutMs),
  readConfigInbounds: (text, source, inbounds) => readXrayUsers(text, {flavor: 'v2ray', inbounds, source}),
  readShareInbounds: (text, source, inbounds) => readXrayShareInbounds(text, {flavor: 'v2ray', inbounds, source}),
  applyUsers: (change, host) =>
    applyXrayFamilyUsers('v2ray', () => connectV2rayApi('v2ray', change.node), change, host),
  probe: async (node) => probeApi(await connectV2rayApi('v2ray', node)),
}
