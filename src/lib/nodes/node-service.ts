import type {Context} from '../context.js'
import {deleteNode, findNode, insertNode, listNodes as listNodeRows} from '../db/nodes-repository.js'
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
  api: string
  config?: string
  inbounds?: string[]
  apply?: string
  import?: boolean
  cutSessions?: boolean
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
  }
}

export async function addNode(db: Db, input: NodeInput, context: Context): Promise<NodeView & {imported?: ImportResult}> {
  assertUserName(input.name)
  if (!nodeTypes.includes(input.type as NodeType)) {
    throw invalidInput('INVALID_NODE_TYPE', `node type "${input.type}" is not supported`, `use one of: ${nodeTypes.join(', ')}`)
  }
  const type = input.type as NodeType
  await connectNode({type, api: type === 'sing-box-ssm' ? ssmBaseUrl(input.api) : input.api}).then((api) => api.close())
  if (input.import && !input.config) throw invalidInput('IMPORT_NEEDS_CONFIG', `node "${input.name}" has no --config to import users from`, 'give --config PATH with --import')
  const inbounds = input.inbounds && input.inbounds.length > 0 ? input.inbounds : undefined
  // Read the config now so a wrong path or inbound tag is refused before anything is stored.
  const found = input.config ? await readConfigInbounds(type, input.config, inbounds) : []
  return db.transaction().execute(async (trx) => {
    if (await findNode(trx, input.name)) throw conflict('NODE_EXISTS', `node "${input.name}" already exists`, `see: sbq node show ${input.name}`)
    const node = await insertNode(trx, {
      name: input.name,
      type,
      api: input.api,
      config_path: input.config ?? null,
      inbounds: inbounds ? JSON.stringify(inbounds) : null,
      apply_command: input.apply ?? (input.config ? defaultApplyCommand(type) : null),
      cut_sessions: input.cutSessions ? 1 : 0,
      created_at: context.now,
      last_pull_at: null,
      last_error: null,
    })
    const view = toNodeView(node)
    return input.import ? {...view, imported: await importUsers(trx, found, {...context, actor: 'import'})} : view
  })
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
