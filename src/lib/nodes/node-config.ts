import {readFile} from 'node:fs/promises'

import type {NodeRow, NodeType} from '../db/schema.js'
import {invalidInput, unreachable} from '../errors.js'
import type {ImportedUser} from '../config-file/user-lists.js'

/** A managed inbound as the node's config file describes it: what protocol it speaks and who is on it. */
export interface ConfigInbound {
  tag: string
  protocol: string
  method?: string
  flow?: string
  users: ImportedUser[]
}

export function managedInboundTags(node: Pick<NodeRow, 'inbounds'>): string[] | undefined {
  return node.inbounds === null ? undefined : (JSON.parse(node.inbounds) as string[])
}

export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw unreachable('CONFIG_MISSING', `proxy config "${path}" cannot be read: ${(error as Error).message}`, 'check --config points at the proxy\'s config file')
  }
}

/** Reads the inbounds sbq manages from a config file of the node's proxy type. */
export async function readConfigInbounds(type: NodeType, path: string, inbounds: string[] | undefined): Promise<ConfigInbound[]> {
  if (type === '3x-ui') throw invalidInput('NODE_HAS_NO_CONFIG', 'a 3x-ui node keeps its users in its panel, not in a config file sbq reads', 'leave out --config and --import')
  const text = await readConfigText(path)
  if (type === 'sing-box' || type === 'sing-box-ssm') {
    const {readSingBoxUsers} = await import('../proxies/sing-box/config.js')
    return readSingBoxUsers(text, {inbounds, source: path}).inbounds.map((inbound) => ({...inbound, protocol: inbound.type}))
  }
  const {readXrayUsers} = await import('../proxies/xray/config.js')
  return readXrayUsers(text, {flavor: type, inbounds, source: path})
}

/**
 * The method of the SSM-managed shadowsocks inbound in a sing-box config (it decides whether a user's key is the
 * 16-byte or the 32-byte one); undefined without a config or such an inbound.
 */
export async function ssmMethod(configPath: string | null): Promise<string | undefined> {
  if (configPath === null) return undefined
  const {parseJsonDocument, toValue} = await import('../config-file/json-document.js')
  let config: unknown
  try {
    config = toValue(parseJsonDocument(await readConfigText(configPath)))
  } catch (error) {
    throw unreachable('CONFIG_INVALID', `sing-box config "${configPath}" cannot be read: ${(error as Error).message}`, 'fix the file, or add the node again without --config')
  }
  const inbounds = (config as {inbounds?: Array<{type?: unknown; managed?: unknown; method?: unknown}>}).inbounds ?? []
  const managed = inbounds.find((inbound) => inbound.type === 'shadowsocks' && inbound.managed === true)
  return typeof managed?.method === 'string' ? managed.method : undefined
}
