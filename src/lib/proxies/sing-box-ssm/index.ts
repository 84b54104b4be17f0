/**
 * sing-box's SSM API (service `ssm-api`): one managed shadowsocks 2022 inbound whose users and counters live in the
 * running sing-box, changed over HTTP with no config rewrite and no reload.
 */
import {parseJsonDocument, toValue} from '../../config-file/json-document.js'
import {readConfigText} from '../../config-file/read-config.js'
import {counterUser} from '../../domain/counter-values.js'
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
import {readSingBoxInbounds} from '../shared/sing-box-inbounds.js'

export const singBoxSsmDriver: ProxyDriver = {
  type: 'sing-box-ssm',
  traffic: 'pulled',
  defaultApplyCommand: null,
  onlineIps: false,
  connect,
  readConfigInbounds: readSingBoxInbounds,
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
    const inbound: InboundTarget = {
      tag: 'ssm',
      protocol: 'shadowsocks',
      method: await ssmMethod(change.node.config_path),
    }
    await forEachLimited(change.removed, (name) => api.removeUser!(inbound, name))
    await forEachLimited(change.added, (user) => api.addUser!(inbound, user))
    await api.confirmUsers?.(inbound, {present: change.added, absent: change.removed})
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
async function lostUsers(node: ProxyNode, applied: ReadonlySet<string>): Promise<boolean> {
  if (applied.size === 0) return false
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
  for (const name of applied) if (!present.has(name)) return true
  return false
}

/**
 * The method of the SSM-managed shadowsocks inbound in a sing-box config (it decides whether a user's key is the
 * 16-byte or the 32-byte one); undefined without a config or such an inbound.
 */
async function ssmMethod(configPath: string | null): Promise<string | undefined> {
  if (configPath === null) return undefined
  let config: unknown
  try {
    config = toValue(parseJsonDocument(await readConfigText(configPath)))
  } catch (error) {
    throw unreachable(
      'CONFIG_INVALID',
      `sing-box config "${configPath}" cannot be read: ${(error as Error).message}`,
      'fix the file, or add the node again without --config',
    )
  }
  const inbounds = (config as {inbounds?: Array<{type?: unknown; managed?: unknown; method?: unknown}>}).inbounds ?? []
  const managed = inbounds.find((inbound) => inbound.type === 'shadowsocks' && inbound.managed === true)
  return typeof managed?.method === 'string' ? managed.method : undefined
}
