import type {Context} from '../context.js'
import {deleteNode, findNode, insertNode, listNodes as listNodeRows} from '../db/nodes-repository.js'
import {hashInformToken, newInformToken} from '../inform/inform-token.js'
import {assertBaseUrl, defaultPublicUrl, informUri} from '../inform/inform-uri.js'
import type {Db} from '../db/open-database.js'
import {nodeTypes, type NodeRow, type NodeType} from '../db/schema.js'
import {conflict, invalidInput, notFound} from '../errors.js'
import {assertUserName} from '../users/user-name.js'
import {iso} from '../users/user-view.js'
import {connectNode, ssmBaseUrl} from './connect.js'
import {importUsers, type ImportResult} from './import-users.js'
import {managedInboundTags, readConfigInbounds} from './node-config.js'

export interface NodeInput {
  name: string
  type: string
  /** Every type but 3x-ui, which reports by itself. */
  api?: string
  config?: string
  inbounds?: string[]
  apply?: string
  import?: boolean
  cutSessions?: boolean
  /** 3x-ui: the base URL 3x-ui reaches `sbq serve` at, for the inform URI. */
  publicUrl?: string
  /** 3x-ui: the panel login that lets sbq switch clients off and on. */
  panel?: {url?: string; user?: string; password?: string}
  /** Any pulled type: a central sbq's inform URI that this node's pulls are pushed to. */
  inform?: string
}

export interface NodeView {
  name: string
  type: NodeType
  api: string
  config: string | null
  inbounds: string[] | null
  apply: string | null
  cutSessions: boolean
  lastPullAt: string | null
  lastError: string | null
  createdAt: string
  /** The 3x-ui panel sbq logs in to, as "user @ url" (never the password). */
  panel: string | null
  /** Where pulls are pushed, with the receiver's token left out. */
  inform: string | null
  /** Reports sbq serve refused whole; 3x-ui never reads the answer, so this is where a refusal shows. */
  refusedReports: number
  /** New unmanaged names not recorded, over unmanaged-names-limit. */
  refusedNames: number
  /** The last refusal; a later successful report does not clear it (`at` says when it was). */
  lastRefusal: {at: string; status: number | null; reason: string; bytes: number | null} | null
}

/** What `node add --type 3x-ui` and `node rotate-token` print once: the token is stored hashed, never shown again. */
export interface InformSecret {
  informUri: string
}

/** What makes each proxy take a new config when the operator does not say. */
export function defaultApplyCommand(type: NodeType): string | null {
  switch (type) {
    case 'sing-box':
      return 'systemctl reload sing-box'
    case 'xray':
      return 'systemctl restart xray'
    case 'v2ray':
      return 'systemctl restart v2ray'
    case 'sing-box-ssm':
    case '3x-ui':
      return null
  }
}

export function toNodeView(node: NodeRow): NodeView {
  return {
    name: node.name,
    type: node.type,
    api: node.api,
    config: node.config_path,
    inbounds: managedInboundTags(node) ?? null,
    apply: node.apply_command,
    cutSessions: node.cut_sessions === 1,
    lastPullAt: node.last_pull_at === null ? null : iso(node.last_pull_at),
    lastError: node.last_error,
    createdAt: iso(node.created_at),
    panel: node.panel_url === null ? null : `${node.panel_user ?? ''} @ ${node.panel_url}`,
    inform: node.inform_url === null ? null : withoutToken(node.inform_url),
    refusedReports: node.refused_reports,
    refusedNames: node.refused_names,
    lastRefusal:
      node.last_refused_at === null ? null : {at: iso(node.last_refused_at), status: node.last_refusal_status, reason: node.last_refusal_reason ?? '', bytes: node.last_refusal_bytes},
  }
}

/** An inform URI ends with the receiver's token: shown as …, so `node show` output can be pasted anywhere. */
function withoutToken(url: string): string {
  return url.replace(/\/[^/]*$/, '/…')
}

export async function addNode(db: Db, input: NodeInput, context: Context): Promise<NodeView & {imported?: ImportResult} & Partial<InformSecret>> {
  assertUserName(input.name)
  if (!nodeTypes.includes(input.type as NodeType)) {
    throw invalidInput('INVALID_NODE_TYPE', `node type "${input.type}" is not supported`, `use one of: ${nodeTypes.join(', ')}`)
  }
  const type = input.type as NodeType
  if (type === '3x-ui') return addReportingNode(db, input, context)
  if (input.api === undefined) throw invalidInput('NODE_NEEDS_API', `node "${input.name}" needs --api`, `give the ${type} API address with --api`)
  if (input.publicUrl !== undefined || input.panel?.url !== undefined) {
    throw invalidInput('NOT_A_3X_UI_NODE', `--public-url and --panel-url are for 3x-ui nodes, and "${input.name}" is ${type}`, 'leave them out, or add the node with --type 3x-ui')
  }
  const inform = input.inform === undefined ? null : assertBaseUrl('--inform', input.inform)
  const api = input.api
  await connectNode({type, api: type === 'sing-box-ssm' ? ssmBaseUrl(api) : api}).then((client) => client.close())
  if (input.import && !input.config) throw invalidInput('IMPORT_NEEDS_CONFIG', `node "${input.name}" has no --config to import users from`, 'give --config PATH with --import')
  const inbounds = input.inbounds && input.inbounds.length > 0 ? input.inbounds : undefined
  // Read the config now so a wrong path or inbound tag is refused before anything is stored.
  const found = input.config ? await readConfigInbounds(type, input.config, inbounds) : []
  return db.transaction().execute(async (trx) => {
    await assertNewNode(trx, input.name)
    const node = await insertNode(trx, {
      name: input.name,
      type,
      api,
      config_path: input.config ?? null,
      inbounds: inbounds ? JSON.stringify(inbounds) : null,
      apply_command: input.apply ?? (input.config ? defaultApplyCommand(type) : null),
      cut_sessions: input.cutSessions ? 1 : 0,
      created_at: context.now,
      last_pull_at: null,
      last_error: null,
      inform_url: inform,
    })
    const view = toNodeView(node)
    return input.import ? {...view, imported: await importUsers(trx, found, {...context, actor: 'import'})} : view
  })
}

async function assertNewNode(db: Db, name: string): Promise<void> {
  if (await findNode(db, name)) throw conflict('NODE_EXISTS', `node "${name}" already exists`, `see: sbq node show ${name}`)
}

/**
 * A 3x-ui node: fed by its own POSTs to `sbq serve`, with a random token in the URL. With a panel login, sbq checks
 * it now (exit 4 when refused) and later switches clients off and on through it.
 */
async function addReportingNode(db: Db, input: NodeInput, context: Context): Promise<NodeView & InformSecret> {
  if (input.api !== undefined || input.config !== undefined || input.import || input.inform !== undefined || (input.inbounds?.length ?? 0) > 0 || input.apply !== undefined) {
    throw invalidInput('NOT_FOR_3X_UI', `3x-ui node "${input.name}" takes no --api, --config, --import, --inbound, --apply or --inform`, 'it reports by itself; give --public-url and, to enforce quotas, --panel-url, --panel-user and --panel-password')
  }
  const publicUrl = assertBaseUrl('--public-url', input.publicUrl ?? defaultPublicUrl)
  const panel = await checkedPanel(input)
  const token = newInformToken()
  const node = await db.transaction().execute(async (trx) => {
    await assertNewNode(trx, input.name)
    return insertNode(trx, {
      name: input.name,
      type: '3x-ui',
      api: '',
      config_path: null,
      inbounds: null,
      apply_command: null,
      cut_sessions: 0,
      created_at: context.now,
      last_pull_at: null,
      last_error: null,
      token_hash: hashInformToken(token),
      public_url: publicUrl,
      panel_url: panel?.url ?? null,
      panel_user: panel?.user ?? null,
      panel_password: panel?.password ?? null,
    })
  })
  return {...toNodeView(node), informUri: informUri(publicUrl, node.name, token)}
}

async function checkedPanel(input: NodeInput): Promise<{url: string; user: string; password: string} | null> {
  const {url, user, password} = input.panel ?? {}
  if (url === undefined && user === undefined && password === undefined) return null
  if (url === undefined || user === undefined || password === undefined) {
    throw invalidInput('PANEL_LOGIN_INCOMPLETE', `3x-ui node "${input.name}" needs all of --panel-url, --panel-user and --panel-password`, 'give all three, or none to only receive its traffic')
  }
  const credentials = {url: assertBaseUrl('--panel-url', url), user, password}
  const {openPanel} = await import('../proxies/3x-ui/panel-client.js')
  ;(await openPanel(credentials)).close()
  return credentials
}

/** A new inform token for a 3x-ui node; the old one stops working at once. */
export async function rotateInformToken(db: Db, name: string, publicUrl: string | undefined): Promise<{name: string} & InformSecret> {
  const node = await requireNode(db, name)
  if (node.type !== '3x-ui') throw invalidInput('NODE_HAS_NO_TOKEN', `node "${name}" is ${node.type} and has no inform token`, 'only 3x-ui nodes report to sbq serve')
  const base = publicUrl === undefined ? (node.public_url ?? defaultPublicUrl) : assertBaseUrl('--public-url', publicUrl)
  const token = newInformToken()
  await db.updateTable('nodes').set({token_hash: hashInformToken(token), public_url: base}).where('id', '=', node.id).execute()
  return {name, informUri: informUri(base, name, token)}
}

export async function listNodes(db: Db): Promise<NodeView[]> {
  return (await listNodeRows(db)).map(toNodeView)
}

export async function requireNode(db: Db, name: string): Promise<NodeRow> {
  const node = await findNode(db, name)
  if (!node) throw notFound('NODE_NOT_FOUND', `node "${name}" does not exist`, 'see: sbq node list')
  return node
}

export async function showNode(db: Db, name: string): Promise<NodeView> {
  return toNodeView(await requireNode(db, name))
}

export async function removeNode(db: Db, name: string): Promise<{name: string; removed: true}> {
  const node = await requireNode(db, name)
  await deleteNode(db, node.id)
  return {name, removed: true}
}

export interface NodeTest {
  name: string
  ok: true
  uptime: number | null
  userCounters: number
  users: number
  liveUserChanges: boolean
  onlineIps: boolean
}

/** Reaches the node's API once; throws the adapter's exit-4 error when it cannot. */
export async function testNode(db: Db, name: string): Promise<NodeTest> {
  const node = await requireNode(db, name)
  if (node.type === '3x-ui') return testPanel(node)
  const api = await connectNode(node)
  try {
    const snapshot = await api.readStats()
    const userCounters = snapshot.counters.filter((counter) => counter.name.startsWith('user>>>'))
    const users = new Set(userCounters.map((counter) => counter.name.split('>>>')[1]))
    return {
      name,
      ok: true,
      uptime: snapshot.uptimeSeconds,
      userCounters: userCounters.length,
      users: users.size,
      liveUserChanges: api.addUser !== undefined,
      onlineIps: 'onlineIps' in api,
    }
  } finally {
    api.close()
  }
}

/** A 3x-ui node is reached through its panel: a login and the client list, or nothing when it has no login. */
async function testPanel(node: NodeRow): Promise<NodeTest> {
  if (node.panel_url === null) {
    throw invalidInput('NODE_HAS_NO_PANEL', `3x-ui node "${node.name}" has no panel login to test`, 'its traffic arrives through sbq serve; see the last report in: sbq node show ' + node.name)
  }
  const {openPanel} = await import('../proxies/3x-ui/panel-client.js')
  const panel = await openPanel({url: node.panel_url, user: node.panel_user ?? '', password: node.panel_password ?? ''})
  try {
    const clients = await panel.listClients()
    return {name: node.name, ok: true, uptime: null, userCounters: 0, users: new Set(clients.map((client) => client.email)).size, liveUserChanges: true, onlineIps: false}
  } finally {
    panel.close()
  }
}
