/**
 * Reading and rewriting the user lists of a sing-box config. Pure: text in, text out.
 *
 * sing-box rejects unknown keys, so sbq adds none: a managed user is recognised by its name being in the set the
 * caller manages, and everything that is not a managed user list (or `experimental.v2ray_api.stats.users`) keeps
 * its exact bytes.
 */
import {isPlaceholderUser, newPlaceholderUser} from './placeholder-user.js'
import {singBoxShareInbound} from './sing-box-stream.js'
import type {ShareInbound} from '../../domain/share-links.js'
import {allowedOn} from '../../domain/traffic.js'
import type {ManagedUser, UserCredentials} from '../proxy-driver.js'
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
  type ArrayItem,
  type TextEdit,
} from '../../config-file/json-edit.js'
import {
  applyVerified,
  asObject,
  configInvalid,
  inboundNotFound,
  inboundUnsupported,
  loadDocument,
  mostCommon,
  orderDesired,
  planUserList,
  shadowsocksCredentials,
  shadowsocksKey,
  withDuplicateKeysRefused,
  type ConfigContext,
  type ImportedUser,
  type UserListRewrite,
} from './user-lists.js'

export const SING_BOX_USER_INBOUND_TYPES = [
  'vless',
  'vmess',
  'trojan',
  'shadowsocks',
  'tuic',
  'hysteria',
  'hysteria2',
  'anytls',
  'shadowtls',
  'naive',
  'socks',
  'http',
  'mixed',
] as const

export type SingBoxUserInboundType = (typeof SING_BOX_USER_INBOUND_TYPES)[number]

export interface SingBoxInboundUsers {
  tag: string
  type: SingBoxUserInboundType
  /** shadowsocks only: the inbound's method, which decides the key length. */
  method?: string
  /** vless only: the flow its users carry (new users get the same), absent when none. */
  flow?: string
  /** Users with a name, in config order; unnamed entries cannot be managed and are left out, as is sbq's placeholder. */
  users: ImportedUser[]
}

export interface SingBoxUsers {
  inbounds: SingBoxInboundUsers[]
  /** `experimental.v2ray_api.stats.users` when that block exists, else null (no per-user counters). */
  statsUsers: string[] | null
}

export interface ReadSingBoxOptions {
  /** Tags to manage; default every inbound that carries a user list. */
  inbounds?: readonly string[]
  /** Names the config in messages, usually its path. */
  source?: string
  /** The inbounds are an ssm-api's: their users live in the running sing-box, so `managed: true` is expected. */
  servedBySsm?: boolean
}

export interface RewriteSingBoxOptions extends ReadSingBoxOptions {
  desired: readonly ManagedUser[]
  /** Every name sbq manages on this node, active or not; entries with other names are never touched. */
  managedNames: ReadonlySet<string>
  /** vless flow per inbound tag, overriding the flow read from the inbound's existing users. */
  flows?: Readonly<Record<string, string>>
}

export interface SingBoxRewrite extends UserListRewrite {
  /** Whether `experimental.v2ray_api.stats.users` changed. */
  statsUsersChanged: boolean
}

const USERNAME_TYPES: ReadonlySet<string> = new Set(['naive', 'socks', 'http', 'mixed'])

function isUserInboundType(type: string): type is SingBoxUserInboundType {
  return (SING_BOX_USER_INBOUND_TYPES as readonly string[]).includes(type)
}

function nameKey(type: SingBoxUserInboundType): 'name' | 'username' {
  return USERNAME_TYPES.has(type) ? 'username' : 'name'
}

interface ManagedInbound {
  index: number
  node: JsonObjectNode
  tag: string
  type: SingBoxUserInboundType
  method: string | undefined
  users: (JsonNode & {kind: 'array'}) | undefined
}

function stringChild(node: JsonNode | undefined, key: string): string | undefined {
  const child = childOf(node, key)
  return child?.kind === 'string' ? child.value : undefined
}

/** Why an inbound cannot carry a user list sbq manages, or undefined when it can. */
function unsupportedReason(inbound: JsonObjectNode, type: string, servedBySsm = false): string | undefined {
  if (!isUserInboundType(type)) return `is of type "${type}", which has no user list`
  const managedFlag = childOf(inbound, 'managed')
  if (type === 'shadowsocks' && managedFlag?.kind === 'boolean' && managedFlag.value && !servedBySsm) {
    return 'is "managed: true" (its users belong to the ssm-api service and cannot be listed in the config)'
  }
  if (type === 'shadowtls') {
    const version = childOf(inbound, 'version')
    if (version?.kind !== 'number' || version.value !== 3) return 'is shadowtls below version 3, which has no user list'
  }
  return undefined
}

function selectInbounds(
  ctx: ConfigContext,
  root: JsonObjectNode,
  tags: readonly string[] | undefined,
  servedBySsm = false,
): ManagedInbound[] {
  const list = memberOf(root, 'inbounds')?.value
  if (list !== undefined && list.kind !== 'array') throw configInvalid(ctx, 'has "inbounds" that is not a list')
  const all = (list?.items ?? []).map((node, index) => {
    if (node.kind !== 'object') throw configInvalid(ctx, `has inbound #${index + 1} that is not an object`)
    return {index, node, tag: stringChild(node, 'tag'), type: stringChild(node, 'type') ?? ''}
  })

  const pick = (entry: (typeof all)[number], tag: string): ManagedInbound => {
    const users = childOf(entry.node, 'users')
    if (users !== undefined && users.kind !== 'array') {
      throw configInvalid(ctx, `has inbound "${tag}" whose "users" is not a list`)
    }
    return {
      index: entry.index,
      node: entry.node,
      tag,
      type: entry.type as SingBoxUserInboundType,
      method: stringChild(entry.node, 'method'),
      users,
    }
  }

  if (tags === undefined) {
    return all.flatMap((entry) =>
      entry.tag !== undefined &&
      childOf(entry.node, 'users')?.kind === 'array' &&
      unsupportedReason(entry.node, entry.type) === undefined
        ? [pick(entry, entry.tag)]
        : [],
    )
  }
  return tags.map((tag) => {
    const matches = all.filter((entry) => entry.tag === tag)
    if (matches.length === 0) throw inboundNotFound(ctx, tag)
    if (matches.length > 1) throw configInvalid(ctx, `has the inbound tag "${tag}" more than once`)
    const entry = matches[0]!
    const why = unsupportedReason(entry.node, entry.type, servedBySsm)
    if (why !== undefined) throw inboundUnsupported(ctx, tag, why)
    return pick(entry, tag)
  })
}

function entryName(entry: JsonNode, type: SingBoxUserInboundType): string | undefined {
  return stringChild(entry, nameKey(type))
}

function importedCredentials(entry: JsonNode, inbound: ManagedInbound): Partial<UserCredentials> {
  const uuid = stringChild(entry, 'uuid')
  const password = stringChild(entry, 'password')
  switch (inbound.type) {
    case 'vless':
    case 'vmess':
      return uuid === undefined ? {} : {uuid}
    case 'tuic':
      return {...(uuid === undefined ? {} : {uuid}), ...(password === undefined ? {} : {password})}
    case 'hysteria': {
      const auth = stringChild(entry, 'auth_str')
      return auth === undefined ? {} : {password: auth}
    }
    case 'shadowsocks':
      return password === undefined ? {} : shadowsocksCredentials(inbound.method, password)
    default:
      return password === undefined ? {} : {password}
  }
}

function existingFlow(inbound: ManagedInbound): string | undefined {
  return mostCommon((inbound.users?.items ?? []).map((entry) => stringChild(entry, 'flow')))
}

/** A new user entry in the shape the inbound's type expects. */
function userEntry(inbound: ManagedInbound, user: ManagedUser, flow: string | undefined): JsonValue {
  const {name, credentials: c} = user
  switch (inbound.type) {
    case 'vless':
      return flow === undefined || flow === '' ? {name, uuid: c.uuid} : {name, uuid: c.uuid, flow}
    case 'vmess':
      return {name, uuid: c.uuid, alterId: 0}
    case 'tuic':
      return {name, uuid: c.uuid, password: c.password}
    case 'hysteria':
      return {name, auth_str: c.password}
    case 'shadowsocks':
      return {name, password: shadowsocksKey(inbound.method, c)}
    case 'naive':
    case 'socks':
    case 'http':
    case 'mixed':
      return {username: name, password: c.password}
    default:
      return {name, password: c.password}
  }
}

function context(options: ReadSingBoxOptions): ConfigContext {
  return {proxy: 'sing-box', source: options.source}
}

export function readSingBoxUsers(configText: string, options: ReadSingBoxOptions = {}): SingBoxUsers {
  const ctx = context(options)
  const {root} = loadDocument(ctx, configText)
  return withDuplicateKeysRefused(ctx, () => {
    const inbounds = selectInbounds(ctx, root, options.inbounds).map((inbound): SingBoxInboundUsers => {
      const users = (inbound.users?.items ?? []).flatMap((entry) => {
        const name = entryName(entry, inbound.type)
        return name === undefined || isPlaceholderUser(name)
          ? []
          : [{name, credentials: importedCredentials(entry, inbound)}]
      })
      const flow = inbound.type === 'vless' ? existingFlow(inbound) : undefined
      return {
        tag: inbound.tag,
        type: inbound.type,
        ...(inbound.method === undefined ? {} : {method: inbound.method}),
        ...(flow === undefined ? {} : {flow}),
        users,
      }
    })
    const stats = statsNode(ctx, root)
    const list = childOf(stats, 'users')
    const names = (list?.kind === 'array' ? list.items : []).flatMap((n) => (n.kind === 'string' ? [n.value] : []))
    const statsUsers = stats === undefined ? null : names
    return {inbounds, statsUsers}
  })
}

/** The managed inbounds as a client must be told of them (share links): port, transport, TLS or REALITY. */
export function readSingBoxShareInbounds(configText: string, options: ReadSingBoxOptions = {}): ShareInbound[] {
  const ctx = context(options)
  const {root} = loadDocument(ctx, configText)
  return withDuplicateKeysRefused(ctx, () =>
    selectInbounds(ctx, root, options.inbounds, options.servedBySsm).map((inbound) =>
      singBoxShareInbound(toValue(inbound.node), inbound.tag, inbound.type, {
        flow: inbound.type === 'vless' ? existingFlow(inbound) : undefined,
        method: inbound.method,
        // A 2022 inbound with several users has a key of its own, which a client sends before the user's.
        serverKey:
          inbound.type === 'shadowsocks' && inbound.method?.toLowerCase().startsWith('2022-')
            ? stringChild(inbound.node, 'password')
            : undefined,
      }),
    ),
  )
}

function statsNode(ctx: ConfigContext, root: JsonObjectNode): JsonObjectNode | undefined {
  const stats = childOf(childOf(childOf(root, 'experimental'), 'v2ray_api'), 'stats')
  if (stats === undefined) return undefined
  if (stats.kind !== 'object') throw configInvalid(ctx, 'has "experimental.v2ray_api.stats" that is not an object')
  const users = childOf(stats, 'users')
  if (users !== undefined && users.kind !== 'array') {
    throw configInvalid(ctx, 'has "experimental.v2ray_api.stats.users" that is not a list')
  }
  return stats
}

export function rewriteSingBoxUsers(configText: string, options: RewriteSingBoxOptions): SingBoxRewrite {
  const ctx = context(options)
  const {root} = loadDocument(ctx, configText)
  const desired = orderDesired(options.desired)
  const managed = new Set([...options.managedNames, ...desired.map((u) => u.name)])
  // Written only where an inbound would be left with no user (see placeholder-user.ts).
  const placeholder = newPlaceholderUser()

  return withDuplicateKeysRefused(ctx, () => {
    const inbounds = selectInbounds(ctx, root, options.inbounds)
    const stats = statsNode(ctx, root)
    const expected = parseJsonValue(configText)
    const edits: TextEdit[] = []
    const changedInbounds: string[] = []

    for (const inbound of inbounds) {
      const flow = inbound.type === 'vless' ? (options.flows?.[inbound.tag] ?? existingFlow(inbound)) : undefined
      const {items} = planUserList(
        inbound.users?.items ?? [],
        (entry) => entryName(entry, inbound.type),
        managed,
        desired.filter((u) => allowedOn(u, inbound.tag)).map((u) => userEntry(inbound, u, flow)),
        userEntry(inbound, placeholder, flow),
      )
      const before = inbound.users === undefined ? [] : toValue(inbound.users)
      const after = items.map((item) => ('keep' in item ? toValue(item.keep) : item.value))
      if (jsonEqual(before, after)) continue

      edits.push(
        inbound.users === undefined
          ? insertMemberEdit(configText, inbound.node, 'users', after)
          : replaceArrayEdit(configText, inbound.users, items),
      )
      const inboundsValue = asObject(expected)?.['inbounds']
      const target = Array.isArray(inboundsValue) ? asObject(inboundsValue[inbound.index]) : undefined
      if (target === undefined) throw new Error('inbound vanished while rewriting')
      target['users'] = after
      changedInbounds.push(inbound.tag)
    }

    let statsUsersChanged = false
    if (stats !== undefined) {
      const list = childOf(stats, 'users')
      const current = list?.kind === 'array' ? list.items : []
      const keptNodes = current.filter((n) => n.kind !== 'string' || !managed.has(n.value))
      const items: ArrayItem[] = [...keptNodes.map((keep) => ({keep})), ...desired.map((u) => ({value: u.name}))]
      const before = list === undefined ? [] : toValue(list)
      const after = items.map((item) => ('keep' in item ? toValue(item.keep) : item.value))
      if (!jsonEqual(before, after)) {
        edits.push(
          list?.kind === 'array'
            ? replaceArrayEdit(configText, list, items)
            : insertMemberEdit(configText, stats, 'users', after),
        )
        const statsValue = asObject(asObject(asObject(asObject(expected)?.['experimental'])?.['v2ray_api'])?.['stats'])
        if (statsValue === undefined) throw new Error('stats block vanished while rewriting')
        statsValue['users'] = after
        statsUsersChanged = true
      }
    }

    if (edits.length === 0) return {text: configText, changed: false, changedInbounds, statsUsersChanged}
    return {text: applyVerified(configText, edits, expected), changed: true, changedInbounds, statsUsersChanged}
  })
}
