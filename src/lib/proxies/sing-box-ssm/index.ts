/**
 * sing-box's SSM API (service `ssm-api`): one managed shadowsocks 2022 inbound whose users and counters live in the
 * running sing-box, changed over HTTP with no config rewrite and no reload.
 */
import {parseJsonDocument, toValue} from '../../config-file/json-document.js'
import {readConfigText} from '../../config-file/read-config.js'
import {counterUser} from '../../domain/counter-values.js'
import type {ShareInbound} from '../../domain/share-links.js'
import {allowedOn} from '../../domain/traffic.js'
import {SbqError, unreachable} from '../../errors.js'
import type {
  ChangeHost,
  ChangeOutcome,
  InboundTarget,
  ProxyApi,
  ProxyDriver,
  ProxyNode,
  UserChange,
} from '../proxy-driver.js'
import {forEachLimited} from '../shared/config-sync.js'
import {probeApi} from '../shared/probe-api.js'
import {readSingBoxShareInbounds} from '../shared/sing-box-config.js'
import {readSingBoxInbounds} from '../shared/sing-box-inbounds.js'

export const singBoxSsmDriver: ProxyDriver = {
  type: 'sing-box-ssm',
  traffic: 'pulled',
  defaultApplyCommand: null,
  onlineIps: false,
  connect,
  readConfigInbounds: readSingBoxInbounds,
  readShareInbounds: readSsmShareInbounds,
  applyUsers,
  lostUsers,
  probe: async (node) => probeApi(await connect(node)),
}

async function connect(node: Pick<ProxyNode, 'api'>, timeoutMs?: number): Promise<ProxyApi> {
  const {createSingBoxSsmApi} = await import('./ssm-api.js')
  return createSingBoxSsmApi({baseUrl: ssmBaseUrl(node.api), timeoutMs})
}

/** `--api` for an SSM node may be a bare HOST:PORT (the `/` server) or a full URL with the server's path. */
export function ssmBaseUrl(api: string): string {
  return /^https?:\/\//.test(api) ? api : `http://${api}`
}

async function applyUsers(change: UserChange, host: ChangeHost): Promise<ChangeOutcome> {
  // sing-box drops a deleted user's counters with the user (service/ssmapi traffic.go UpdateUsers): bill them first,
  // so nothing counted before the change is lost and a re-added user's counter, from 0, is all new traffic.
  await host.pullNode()
  const api = await connect(change.node)
  try {
    // The key length follows the managed inbound's method (a 2022-blake3-aes-128-gcm server wants 16 bytes).
    const served = await servedInbound(change.node)
    const inbound: InboundTarget = {
      tag: typeof served?.tag === 'string' ? served.tag : 'ssm',
      protocol: 'shadowsocks',
      method: typeof served?.method === 'string' ? served.method : undefined,
    }
    const placed = change.added.filter((user) => allowedHere(user, served))
    const absent = [
      ...change.removed,
      ...change.added.filter((user) => !allowedHere(user, served)).map((user) => user.name),
    ]
    await forEachLimited(absent, (name) => api.removeUser!(inbound, name))
    await forEachLimited(placed, (user) => api.addUser!(inbound, user))
    await api.confirmUsers?.(inbound, {present: placed, absent})
    return {method: 'api'}
  } finally {
    api.close()
  }
}

/**
 * sing-box without a cache file forgets the SSM users at every restart, and nothing in sbq's own records changes
 * then. The stats reply lists every user the server has, so a managed user missing from it means the node needs
 * everything again. An unreachable API says nothing here: the pull has already reported it.
 */
async function lostUsers(
  node: ProxyNode,
  applied: ReadonlySet<string>,
  choices: ReadonlyMap<string, readonly string[] | null>,
): Promise<boolean> {
  if (applied.size === 0) return false
  // A user whose inbound choice leaves this server out was never put on it.
  const served = choices.size === 0 ? undefined : await servedInbound(node).catch(unreadable)
  const expected = [...applied].filter((name) => allowedHere({inbounds: choices.get(name)}, served))
  let present: Set<string | undefined>
  try {
    const api = await connect(node)
    try {
      present = new Set((await api.readStats()).counters.map((counter) => counterUser(counter.name)))
    } finally {
      api.close()
    }
  } catch (error) {
    if (error instanceof SbqError) return false
    throw error
  }
  return expected.some((name) => !present.has(name))
}

/** A config sbq cannot read now tells nothing here; applyUsers reports it as the node's error. */
function unreadable(error: unknown): undefined {
  if (error instanceof SbqError) return undefined
  throw error
}

/**
 * Whether a user belongs on this SSM server by their inbound choice. Without a config sbq cannot tell which inbound
 * the server is, so only users without a choice go on it: a choice is never widened by what sbq cannot see.
 */
function allowedHere(user: {inbounds?: readonly string[] | null}, served: SingBoxInboundEntry | undefined): boolean {
  if (user.inbounds === undefined || user.inbounds === null) return true
  return typeof served?.tag === 'string' && allowedOn(user, served.tag)
}

interface SingBoxInboundEntry {
  type?: unknown
  tag?: unknown
  managed?: unknown
  method?: unknown
}

/**
 * The shadowsocks inbound this node's SSM server manages: the one the `ssm-api` service maps the API URL's path to
 * (service/ssmapi: `servers`, path prefix → inbound tag), else the config's first `managed` shadowsocks inbound.
 */
function ssmInbound(config: unknown, api: string): SingBoxInboundEntry | undefined {
  const root = config as {inbounds?: SingBoxInboundEntry[]; services?: Array<{type?: unknown; servers?: unknown}>}
  const inbounds = root.inbounds ?? []
  const path = new URL(ssmBaseUrl(api)).pathname
  for (const service of root.services ?? []) {
    if (service.type !== 'ssm-api' || typeof service.servers !== 'object' || service.servers === null) continue
    const servers = service.servers as Record<string, unknown>
    const tag = servers[path] ?? servers[path.replace(/\/+$/, '')] ?? servers[`${path.replace(/\/+$/, '')}/`]
    const found = inbounds.find((inbound) => inbound.tag === tag && inbound.type === 'shadowsocks')
    if (found !== undefined) return found
  }
  return inbounds.find((inbound) => inbound.type === 'shadowsocks' && inbound.managed === true)
}

function parseSingBoxConfig(text: string, source: string): unknown {
  try {
    return toValue(parseJsonDocument(text))
  } catch (error) {
    throw unreachable(
      'CONFIG_INVALID',
      `sing-box config "${source}" cannot be read: ${(error as Error).message}`,
      'fix the file, or add the node again without --config',
    )
  }
}

/**
 * The inbound this node's SSM server manages, from its config: its method decides whether a user's key is the
 * 16-byte or the 32-byte one, its tag who may be on it. Undefined without a config or such an inbound.
 */
async function servedInbound(node: Pick<ProxyNode, 'config_path' | 'api'>): Promise<SingBoxInboundEntry | undefined> {
  if (node.config_path === null) return undefined
  return ssmInbound(parseSingBoxConfig(await readConfigText(node.config_path), node.config_path), node.api)
}

/** The SSM server's inbound as clients must be told of it: the same reading as a sing-box node's, of that one inbound. */
function readSsmShareInbounds(
  text: string,
  source: string,
  inbounds: readonly string[] | undefined,
  api = '',
): ShareInbound[] {
  if (inbounds !== undefined) return readSingBoxShareInbounds(text, {inbounds, source, servedBySsm: true})
  const tag = ssmInbound(parseSingBoxConfig(text, source), api)?.tag
  if (typeof tag !== 'string')
    throw unreachable(
      'INBOUND_NOT_FOUND',
      `sing-box config "${source}" has no shadowsocks inbound that its ssm-api serves`,
      'add "managed": true to the shadowsocks inbound and map it in the ssm-api service\'s "servers"',
    )
  return readSingBoxShareInbounds(text, {inbounds: [tag], source, servedBySsm: true})
}
