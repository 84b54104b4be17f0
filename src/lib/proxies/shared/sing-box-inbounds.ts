import type {ConfigInbound} from '../proxy-driver.js'
import {readSingBoxUsers} from './sing-box-config.js'

/** The managed inbounds of a sing-box config, whichever API meters it (v2ray_api or SSM). */
export function readSingBoxInbounds(
  text: string,
  source: string,
  inbounds: readonly string[] | undefined,
): ConfigInbound[] {
  return readSingBoxUsers(text, {inbounds, source}).inbounds.map((inbound) => ({...inbound, protocol: inbound.type}))
}
