import type {ProxyDriver} from '../proxy-driver.js'
import {probeApi} from '../shared/probe-api.js'
import {connectV2rayApi} from '../shared/v2ray-api/connect.js'
import {readXrayShareInbounds, readXrayUsers} from '../shared/xray-config.js'
import {applyXrayFamilyUsers} from '../shared/xray-family-sync.js'

/** Xray: counters and live user changes over its gRPC API (StatsService, HandlerService), online IPs too. */
export const xrayDriver: ProxyDriver = {
  type: 'xray',
  traffic: 'pulled',
  defaultApplyCommand: 'systemctl restart xray',
  onlineIps: true,
  connect: (node, timeoutMs) => connectV2rayApi('xray', node, timeoutMs),
  readConfigInbounds: (text, source, inbounds) => readXrayUsers(text, {flavor: 'xray', inbounds, source}),
  readShareInbounds: (text, source, inbounds) => readXrayShareInbounds(text, {flavor: 'xray', inbounds, source}),
  applyUsers: (change, host) => applyXrayFamilyUsers('xray', () => connectV2rayApi('xray', change.node), change, host),
  probe: async (node) => probeApi(await connectV2rayApi('xray', node)),
}
