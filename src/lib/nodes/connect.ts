import type {NodeRow} from '../db/schema.js'
import {invalidInput} from '../errors.js'
import type {ProxyApi} from '../proxies/proxy-api.js'

/** The node's API client; adapters load lazily so a command pays only for the proxies it talks to. */
export async function connectNode(node: Pick<NodeRow, 'type' | 'api'>, timeoutMs?: number): Promise<ProxyApi> {
  if (node.type === '3x-ui') {
    throw invalidInput('NODE_HAS_NO_PROXY_API', 'a 3x-ui node has no proxy API sbq reads', 'its traffic arrives through sbq serve; its users are switched through the panel')
  }
  if (node.type === 'sing-box-ssm') {
    const {createSingBoxSsmApi} = await import('../proxies/sing-box-ssm/index.js')
    return createSingBoxSsmApi({baseUrl: ssmBaseUrl(node.api), timeoutMs})
  }
  const {createV2rayApi} = await import('../proxies/v2ray-api/index.js')
  return createV2rayApi({flavor: node.type, address: node.api, timeoutMs})
}

/** `--api` for an SSM node may be a bare HOST:PORT (the `/` server) or a full URL with the server's path. */
export function ssmBaseUrl(api: string): string {
  return /^https?:\/\//.test(api) ? api : `http://${api}`
}
