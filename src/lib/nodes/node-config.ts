import {readFile} from 'node:fs/promises'

import type {NodeRow, NodeType} from '../db/schema.js'
import {SbqError, invalidInput, unreachable} from '../errors.js'
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

/**
 * Reads the inbounds sbq manages from a config file of the node's proxy type. The tags are the operator's input, so a
 * tag the file lacks is bad input (exit 2), with the tags it has in the hint.
 */
export async function readConfigInbounds(type: NodeType, path: string, inbounds: string[] | undefined): Promise<ConfigInbound[]> {
  if (type === '3x-ui') throw invalidInput('NODE_HAS_NO_CONFIG', 'a 3x-ui node keeps its users in its panel, not in a config file sbq reads', 'leave out --config and --import')
  const text = await readConfigText(path)
  const read = await configReader(type)
  try {
    return read(text, path, inbounds)
  } catch (error) {
    if (!(error instanceof SbqError && error.code === 'INBOUND_NOT_FOUND')) throw error
    const tags = read(text, path, undefined).map((inbound) => inbound.tag)
    throw invalidInput('INBOUND_NOT_FOUND', error.message, tags.length > 0 ? `inbounds with users it has: ${tags.join(', ')}` : 'it has no inbound with users that sbq can manage')
  }
}

async function configReader(type: Exclude<NodeType, '3x-ui'>): Promise<(text: string, path: string, inbounds: string[] | undefined) => ConfigInbound[]> {
  if (type === 'sing-box' || type === 'sing-box-ssm') {
    const {readSingBoxUsers} = await import('../proxies/sing-box/config.js')
    return (text, path, inbounds) => readSingBoxUsers(text, {inbounds, source: path}).inbounds.map((inbound) => ({...inbound, protocol: inbound.type}))
  }
  const {readXrayUsers} = await import('../proxies/xray/config.js')
  return (text, path, inbounds) => readXrayUsers(text, {flavor: type, inbounds, source: path})
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
