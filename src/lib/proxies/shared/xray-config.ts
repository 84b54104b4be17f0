/**
 * Reading and rewriting `settings.clients` in Xray and V2Ray (4.x) JSON configs. Pure: text in, text out.
 *
 * A client's `email` is its name. Clients whose email sbq does not manage, and every other byte of the config,
 * are left exactly as they were.
 */
import {isPlaceholderUser, newPlaceholderUser} from './placeholder-user.js'
import {shareInbound} from './xray-stream.js'
import type {ShareInbound} from '../../domain/share-links.js'
import {allowedOn} from '../../domain/traffic.js'
import type {ManagedUser, UserCredentials} from '../proxy-driver.js'
import {unreachable} from '../../errors.js'
import {proxyNameKey} from '../../domain/user-name.js'
import {
  jsonEqual,
  parseJsonValue,
  toValue,
  type JsonNode,
  type JsonObjectNode,
  type JsonValue,
} from '../../config-file/json-document.js'
import {
  childOf,
  insertMemberEdit,
  memberOf,
  replaceArrayEdit,
  replaceValueEdit,
  type TextEdit,
} from '../../config-file/json-edit.js'
import {
  applyVerified,
  asObject,
  configInvalid,
  describeConfig,
  inboundNotFound,
  inboundUnsupported,
  is2022Method,
  loadDocument,
  mostCommon,
  orderDesired,
  planUserList,
  shadowsocksCredentials,
  shadowsocksKey,
  withDuplicateKeysRefused,
  type ConfigContext,
  type ImportedUser,
  type PlaceholderChange,
  type UserListRewrite,
} from './user-lists.js'

export type XrayFlavor = 'xray' | 'v2ray'
export type XrayClientProtocol = 'vmess' | 'vless' | 'trojan' | 'shadowsocks' | 'hysteria'

const CLIENT_PROTOCOLS: readonly string[] = ['vmess', 'vless', 'trojan', 'shadowsocks', 'hysteria']

export interface XrayInboundUsers {
  tag: string
  protocol: XrayClientProtocol
  /** shadowsocks only: the method new clients get (the inbound's, or for legacy methods the clients' own). */
  method?: string
  /** vless only: the flow its clients carry, absent when none. */
  flow?: string
  /** Clients with an email, in config order; sbq's placeholder is left out. */
  users: ImportedUser[]
}

export interface ReadXrayOptions {
  /** `v2ray` for V2Ray 4.x: vmess clients carry `alterId`, shadowsocks has no client list. Default `xray`. */
  flavor?: XrayFlavor
  /** Tags to manage; default every tagged vmess/vless/trojan/shadowsocks inbound with a client list. */
  inbounds?: readonly string[]
  /** Names the config in messages, usually its path. */
  source?: string
}

export interface RewriteXrayOptions extends ReadXrayOptions {
  desired: readonly ManagedUser[]
  /** Every email sbq manages on this node, active or not; other clients are never touched. */
  managedNames: ReadonlySet<string>
  /** vless flow per inbound tag, overriding the flow read from the inbound's existing clients. */
  flows?: Readonly<Record<string, string>>
}

interface ManagedInbound {
  index: number
  node: JsonObjectNode
  tag: string
  protocol: XrayClientProtocol
  settings: JsonObjectNode | undefined
  clients: (JsonNode & {kind: 'array'}) | undefined
  /** The settings key holding the client list: `clients`, or `users` for a hysteria inbound that names it so. */
  listKey: 'clients' | 'users'
  method: string | undefined
}

function stringChild(node: JsonNode | undefined, key: string): string | undefined {
  const child = childOf(node, key)
  return child?.kind === 'string' ? child.value : undefined
}

function context(options: ReadXrayOptions): ConfigContext {
  return {proxy: options.flavor ?? 'xray', source: options.source}
}

/** Legacy (pre-2022) shadowsocks clients each name their own method; 2022 ones share the inbound's. */
function shadowsocksMethod(settings: JsonObjectNode | undefined, clients: JsonNode | undefined): string | undefined {
  const own = stringChild(settings, 'method')
  if (own !== undefined) return own
  return mostCommon((clients?.kind === 'array' ? clients.items : []).map((c) => stringChild(c, 'method')))
}

function unsupportedReason(protocol: string, flavor: XrayFlavor, method: string | undefined): string | undefined {
  if (!CLIENT_PROTOCOLS.includes(protocol)) return `uses protocol "${protocol}", which has no client list`
  if (protocol === 'hysteria' && flavor === 'v2ray') return 'uses protocol "hysteria", which V2Ray does not have'
  if (protocol !== 'shadowsocks') return undefined
  if (flavor === 'v2ray') return 'is a V2Ray shadowsocks inbound, which carries a single user'
  if (method === undefined) return 'is shadowsocks with no method to give new clients'
  if (is2022Method(method) && !method.toLowerCase().startsWith('2022-blake3-aes-')) {
    return `uses "${method}", which Xray does not allow for several users`
  }
  return undefined
}

function selectInbounds(
  ctx: ConfigContext,
  flavor: XrayFlavor,
  root: JsonObjectNode,
  tags: readonly string[] | undefined,
): ManagedInbound[] {
  const list = memberOf(root, 'inbounds')?.value
  if (list !== undefined && list.kind !== 'array') throw configInvalid(ctx, 'has "inbounds" that is not a list')
  const all = (list?.items ?? []).map((node, index) => {
    if (node.kind !== 'object') throw configInvalid(ctx, `has inbound #${index + 1} that is not an object`)
    const tag = stringChild(node, 'tag')
    // Xray lower-cases the protocol name before looking it up.
    const protocol = (stringChild(node, 'protocol') ?? '').toLowerCase()
    const settings = childOf(node, 'settings')
    if (settings !== undefined && settings.kind !== 'object' && settings.kind !== 'null') {
      throw configInvalid(ctx, `has inbound "${tag ?? `#${index + 1}`}" whose "settings" is not an object`)
    }
    const settingsObject = settings?.kind === 'object' ? settings : undefined
    const listKey = clientListKey(protocol, settingsObject)
    const clients = childOf(settingsObject, listKey)
    const method = protocol === 'shadowsocks' ? shadowsocksMethod(settingsObject, clients) : undefined
    return {index, node, tag, protocol, settings: settingsObject, clients, listKey, method}
  })

  const pick = (entry: (typeof all)[number], tag: string): ManagedInbound => {
    if (entry.clients !== undefined && entry.clients.kind !== 'array') {
      throw configInvalid(ctx, `has inbound "${tag}" whose "settings.${entry.listKey}" is not a list`)
    }
    return {...entry, tag, protocol: entry.protocol as XrayClientProtocol, clients: entry.clients}
  }

  if (tags === undefined) {
    return all.flatMap((entry) =>
      entry.tag !== undefined &&
      entry.clients?.kind === 'array' &&
      unsupportedReason(entry.protocol, flavor, entry.method) === undefined
        ? [pick(entry, entry.tag)]
        : [],
    )
  }
  return tags.map((tag) => {
    const matches = all.filter((entry) => entry.tag === tag)
    if (matches.length === 0) throw inboundNotFound(ctx, tag)
    if (matches.length > 1) throw configInvalid(ctx, `has the inbound tag "${tag}" more than once`)
    const entry = matches[0]!
    const why = unsupportedReason(entry.protocol, flavor, entry.method)
    if (why !== undefined) throw inboundUnsupported(ctx, tag, why)
    return pick(entry, tag)
  })
}

/**
 * Xray's hysteria inbound reads `settings.clients`, or `settings.users` when it has no `clients` (infra/conf/hysteria.go
 * HysteriaServerConfig.Build); every other protocol has `clients` only.
 */
function clientListKey(protocol: string, settings: JsonObjectNode | undefined): 'clients' | 'users' {
  if (protocol !== 'hysteria' || childOf(settings, 'clients') !== undefined) return 'clients'
  return childOf(settings, 'users') === undefined ? 'clients' : 'users'
}

function importedCredentials(client: JsonNode, inbound: ManagedInbound): Partial<UserCredentials> {
  if (inbound.protocol === 'vmess' || inbound.protocol === 'vless') {
    const id = stringChild(client, 'id')
    return id === undefined ? {} : {uuid: id}
  }
  if (inbound.protocol === 'hysteria') {
    const auth = stringChild(client, 'auth')
    return auth === undefined ? {} : {password: auth}
  }
  const password = stringChild(client, 'password')
  if (password === undefined) return {}
  return inbound.protocol === 'shadowsocks' ? shadowsocksCredentials(inbound.method, password) : {password}
}

/**
 * The flow new clients get: the one most clients carry, else the inbound's own `settings.flow`, which Xray gives
 * clients that name none (since 2025-08). A client added live gets no such default, so sbq must send it: a Vision
 * inbound refuses a client without a flow.
 */
function existingFlow(inbound: ManagedInbound): string | undefined {
  return (
    mostCommon((inbound.clients?.items ?? []).map((c) => stringChild(c, 'flow'))) ??
    mostCommon([stringChild(inbound.settings, 'flow')])
  )
}

function clientEntry(
  inbound: ManagedInbound,
  flavor: XrayFlavor,
  user: ManagedUser,
  flow: string | undefined,
  level: number,
): JsonValue {
  const {name: email, credentials: c} = user
  switch (inbound.protocol) {
    case 'vmess':
      return flavor === 'v2ray' ? {id: c.uuid, alterId: 0, email, level} : {id: c.uuid, email, level}
    case 'vless':
      return flow === undefined || flow === '' ? {id: c.uuid, email, level} : {id: c.uuid, flow, email, level}
    case 'trojan':
      return {password: c.password, email, level}
    case 'hysteria':
      return {auth: c.password, email, level}
    case 'shadowsocks':
      return is2022Method(inbound.method)
        ? {password: shadowsocksKey(inbound.method, c), email, ...(level === 0 ? {} : {level})}
        : {password: c.password, method: inbound.method ?? '', email, level}
  }
}

/**
 * The `level` each client of the inbound has (its `policy.levels` entry: timeouts, which stats Xray keeps, online IPs
 * among them), and the one most of them have, which a client new to the inbound gets: a user sbq re-adds keeps the
 * policy the operator gave the inbound's clients instead of falling back to level 0.
 */
function clientLevels(inbound: ManagedInbound): {byName: Map<string, number>; usual: number} {
  const byName = new Map<string, number>()
  const levels: string[] = []
  for (const client of inbound.clients?.items ?? []) {
    const email = stringChild(client, 'email')
    if (email === undefined || isPlaceholderUser(email)) continue
    const level = childOf(client, 'level')
    const value = level === undefined ? 0 : level.kind === 'number' ? level.value : -1
    if (!Number.isSafeInteger(value) || value < 0) continue
    byName.set(email, value)
    levels.push(String(value))
  }
  return {byName, usual: Number(mostCommon(levels) ?? 0)}
}

/**
 * Xray and V2Ray refuse a client list in which two emails differ only in case (see proxyNameKey), and then will not
 * start: sbq's names are unique that way, but an unmanaged client the operator added may clash with one.
 */
function refuseNameClash(
  ctx: ConfigContext,
  tag: string,
  clients: readonly JsonValue[],
  managed: ReadonlySet<string>,
): void {
  const byKey = new Map<string, string>()
  for (const client of clients) {
    const email = asObject(client)?.['email']
    if (typeof email !== 'string' || email === '') continue
    const key = proxyNameKey(email)
    const first = byKey.get(key)
    if (first === undefined) {
      byKey.set(key, email)
      continue
    }
    const fix = managed.has(email)
      ? `rename or remove "${first}" in the config, or remove the user: sbq user remove ${email}`
      : 'rename or remove one of them in the config'
    throw unreachable(
      'USER_NAME_CLASH',
      `inbound "${tag}" in ${describeConfig(ctx)} would hold "${first}" and "${email}", which ${ctx.proxy} takes for one user`,
      `${fix}; sbq did not change it`,
    )
  }
}

export function readXrayUsers(configText: string, options: ReadXrayOptions = {}): XrayInboundUsers[] {
  const ctx = context(options)
  const flavor = options.flavor ?? 'xray'
  const {root} = loadDocument(ctx, configText)
  return withDuplicateKeysRefused(ctx, () =>
    selectInbounds(ctx, flavor, root, options.inbounds).map((inbound): XrayInboundUsers => {
      const users = (inbound.clients?.items ?? []).flatMap((client) => {
        const email = stringChild(client, 'email')
        return email === undefined || isPlaceholderUser(email)
          ? []
          : [{name: email, credentials: importedCredentials(client, inbound)}]
      })
      const flow = inbound.protocol === 'vless' ? existingFlow(inbound) : undefined
      return {
        tag: inbound.tag,
        protocol: inbound.protocol,
        ...(inbound.method === undefined ? {} : {method: inbound.method}),
        ...(flow === undefined ? {} : {flow}),
        users,
      }
    }),
  )
}

/** The managed inbounds as a client must be told of them (share links): port, transport, TLS or REALITY. */
export function readXrayShareInbounds(configText: string, options: ReadXrayOptions = {}): ShareInbound[] {
  const ctx = context(options)
  const {root} = loadDocument(ctx, configText)
  return withDuplicateKeysRefused(ctx, () =>
    selectInbounds(ctx, options.flavor ?? 'xray', root, options.inbounds).map((inbound) =>
      // Xray's hysteria inbound speaks Hysteria 2 only (infra/conf/hysteria.go refuses any other version).
      shareInbound(
        toValue(inbound.node),
        inbound.tag,
        inbound.protocol === 'hysteria' ? 'hysteria2' : inbound.protocol,
        {
          flow: inbound.protocol === 'vless' ? existingFlow(inbound) : undefined,
          method: inbound.method,
          // A 2022 inbound with several users has a key of its own, which a client sends before the user's.
          serverKey: is2022Method(inbound.method) ? stringChild(inbound.settings, 'password') : undefined,
        },
      ),
    ),
  )
}

/** A rewrite, with the managed inbounds as found (what the live API is called on), so nobody parses the file twice. */
export interface XrayRewrite extends UserListRewrite {
  inbounds: Array<{
    tag: string
    protocol: string
    method?: string
    flow?: string
    placeholder: PlaceholderChange
    /** The level each desired user has on this inbound in the new config, for the live API to give the same. */
    levels: ReadonlyMap<string, number>
  }>
  /** The placeholder written where one was added, for the live API to add the same. Never shown to anyone. */
  placeholder: ManagedUser
}

export function rewriteXrayUsers(configText: string, options: RewriteXrayOptions): XrayRewrite {
  const ctx = context(options)
  const flavor = options.flavor ?? 'xray'
  const {root} = loadDocument(ctx, configText)
  const desired = orderDesired(options.desired)
  const managed = new Set([...options.managedNames, ...desired.map((u) => u.name)])
  // Written only where an inbound would be left with no user (see placeholder-user.ts).
  const placeholder = newPlaceholderUser()

  return withDuplicateKeysRefused(ctx, () => {
    const inbounds = selectInbounds(ctx, flavor, root, options.inbounds)
    const expected = parseJsonValue(configText)
    const edits: TextEdit[] = []
    const changedInbounds: string[] = []
    const found: XrayRewrite['inbounds'] = []

    for (const inbound of inbounds) {
      const flow = inbound.protocol === 'vless' ? (options.flows?.[inbound.tag] ?? existingFlow(inbound)) : undefined
      const known = clientLevels(inbound)
      const levels = new Map<string, number>()
      const entries = desired
        .filter((u) => allowedOn(u, inbound.tag))
        .map((u) => {
          const level = known.byName.get(u.name) ?? known.usual
          levels.set(u.name, level)
          return clientEntry(inbound, flavor, u, flow, level)
        })
      const plan = planUserList(
        inbound.clients?.items ?? [],
        (client) => stringChild(client, 'email'),
        managed,
        entries,
        clientEntry(inbound, flavor, placeholder, flow, 0),
      )
      const {items} = plan
      found.push({
        tag: inbound.tag,
        protocol: inbound.protocol,
        ...(inbound.method === undefined ? {} : {method: inbound.method}),
        ...(flow === undefined ? {} : {flow}),
        placeholder: plan.placeholder,
        levels,
      })
      const before = inbound.clients === undefined ? [] : toValue(inbound.clients)
      const after = items.map((item) => ('keep' in item ? toValue(item.keep) : item.value))
      refuseNameClash(ctx, inbound.tag, after, managed)
      if (jsonEqual(before, after)) continue

      const inboundsValue = asObject(expected)?.['inbounds']
      const target = Array.isArray(inboundsValue) ? asObject(inboundsValue[inbound.index]) : undefined
      if (target === undefined) throw new Error('inbound vanished while rewriting')
      if (inbound.clients !== undefined) {
        edits.push(replaceArrayEdit(configText, inbound.clients, items))
        asObject(target['settings'])![inbound.listKey] = after
      } else if (inbound.settings !== undefined) {
        edits.push(insertMemberEdit(configText, inbound.settings, 'clients', after))
        asObject(target['settings'])!['clients'] = after
      } else {
        // No settings object at all (or `"settings": null`): give the inbound one holding just the clients.
        const settingsMember = memberOf(inbound.node, 'settings')
        const settings = {clients: after}
        edits.push(
          settingsMember === undefined
            ? insertMemberEdit(configText, inbound.node, 'settings', settings)
            : replaceValueEdit(configText, settingsMember.value, settings),
        )
        target['settings'] = settings
      }
      changedInbounds.push(inbound.tag)
    }

    if (edits.length === 0) return {text: configText, changed: false, changedInbounds, inbounds: found, placeholder}
    return {
      text: applyVerified(configText, edits, expected),
      changed: true,
      changedInbounds,
      inbounds: found,
      placeholder,
    }
  })
}
