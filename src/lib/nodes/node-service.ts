import type {Context} from '../context.js'
import {latestInterfaceDays, setNodeInterface} from '../db/interface-drift-repository.js'
import {
  deleteNode,
  findNode,
  insertNode,
  listNodes as listNodeRows,
  setInformToken,
  setNodePublicHost,
  setNodeRatio,
} from '../db/nodes-repository.js'
import {hashInformToken, newInformToken} from '../inform/inform-token.js'
import {assertBaseUrl, defaultPublicUrl, informUri} from '../inform/inform-uri.js'
import type {Db} from '../db/open-database.js'
import type {InterfaceDayRow, NodeRow} from '../db/schema.js'
import {driftRatioPercent} from '../domain/interface-drift.js'
import {assertInterfaceName, readInterfaceCounters} from './host-interface.js'
import {conflict, invalidInput, notFound} from '../errors.js'
import {assertUserName} from '../domain/user-name.js'
import {iso} from '../domain/user.js'
import {formatPublicHost, parsePublicHost} from '../domain/share-links.js'
import {formatRatio, parseRatio, unitRatio} from '../domain/billing-ratio.js'
import {importUsers, type ImportResult} from './import-users.js'
import {readConfigInbounds} from './node-config.js'
import type {NodeProbe, PanelLogin, ProxyDriver, TrafficSource} from '../proxies/proxy-driver.js'
import {driverForInput, driverOf} from '../proxies/registry.js'

export {nodeTypes} from '../proxies/registry.js'
import {managedInboundTags} from '../proxies/shared/config-sync.js'

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
  /** HOST or HOST:PORT clients dial, for share links. */
  publicHost?: string
  /** Bytes billed per byte counted, as typed (`0.5`, `2`); default 1. */
  ratio?: string
  /** The host network interface whose bytes the node's counted traffic is compared with (drift); "none": no such. */
  hostInterface?: string
}

export interface NodeView {
  name: string
  type: string
  /** How its traffic reaches sbq: pulled from its API, or pushed by the node to `sbq serve`. */
  traffic: TrafficSource
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
  /** HOST or HOST:PORT clients dial (share links); null until set. */
  publicHost: string | null
  /** Bytes billed per byte counted, as a decimal (`"0.5"`, `"1"`, `"1.25"`): exact, never a float. */
  ratio: string
  /** Reports sbq serve refused whole; 3x-ui never reads the answer, so this is where a refusal shows. */
  refusedReports: number
  /** New unmanaged names not recorded, over unmanaged-names-limit. */
  refusedNames: number
  /** The last refusal; a later successful report does not clear it (`at` says when it was). */
  lastRefusal: {at: string; status: number | null; reason: string; bytes: number | null} | null
  /** The host interface its counted traffic is compared with; null: none. */
  interface: string | null
  /** The latest day's figures against that interface (node list and show); null before the first compared pull. */
  drift: NodeDriftDay | null
}

/** One day of a node's counted bytes against its host interface's; the ratio is in percent of half the interface. */
export interface NodeDriftDay {
  day: string
  interfaceBytes: number
  countedBytes: number
  ratioPercent: number | null
  /** When the day was first found under drift-threshold; null while it was not. */
  warnedAt: string | null
}

/** What `node add --type 3x-ui` and `node rotate-token` print once: the token is stored hashed, never shown again. */
export interface InformSecret {
  informUri: string
}

export function toNodeView(node: NodeRow, driftDay?: InterfaceDayRow): NodeView {
  return {
    name: node.name,
    type: node.type,
    traffic: driverOf(node).traffic,
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
    publicHost: node.public_host,
    ratio: formatRatio(node.ratio_ten_thousandths),
    refusedReports: node.refused_reports,
    refusedNames: node.refused_names,
    lastRefusal:
      node.last_refused_at === null
        ? null
        : {
            at: iso(node.last_refused_at),
            status: node.last_refusal_status,
            reason: node.last_refusal_reason ?? '',
            bytes: node.last_refusal_bytes,
          },
    interface: node.host_interface,
    drift: driftDay === undefined ? null : driftDayView(driftDay),
  }
}

function driftDayView(row: InterfaceDayRow): NodeDriftDay {
  const window = {interfaceBytes: row.interface_bytes, countedBytes: row.counted_bytes}
  return {
    day: row.day,
    ...window,
    ratioPercent: driftRatioPercent(window),
    warnedAt: row.warned_at === null ? null : iso(row.warned_at),
  }
}

/** An inform URI ends with the receiver's token: shown as …, so `node show` output can be pasted anywhere. */
function withoutToken(url: string): string {
  return url.replace(/\/[^/]*$/, '/…')
}

export async function addNode(
  db: Db,
  input: NodeInput,
  context: Context,
): Promise<NodeView & {imported?: ImportResult; warnings?: string[]} & Partial<InformSecret>> {
  assertUserName(input.name)
  const ratio = input.ratio === undefined ? unitRatio : parseRatio(input.ratio)
  const driver = driverForInput(input.type)
  if (driver.traffic === 'pushed') return addReportingNode(db, input, ratio, driver, context)
  const type = driver.type
  if (input.api === undefined)
    throw invalidInput('NODE_NEEDS_API', `node "${input.name}" needs --api`, `give the ${type} API address with --api`)
  if (input.publicUrl !== undefined || input.panel?.url !== undefined) {
    throw invalidInput(
      'NOT_A_3X_UI_NODE',
      `--public-url and --panel-url are for 3x-ui nodes, and "${input.name}" is ${type}`,
      'leave them out, or add the node with --type 3x-ui',
    )
  }
  const inform = input.inform === undefined ? null : assertBaseUrl('--inform', input.inform)
  const publicHost = input.publicHost === undefined ? null : assertPublicHost(input.publicHost)
  const hostInterface = input.hostInterface === undefined ? null : checkedInterface(input.hostInterface)
  const api = input.api
  await driver.connect!({name: input.name, api}).then((client) => client.close())
  if (input.import && !input.config)
    throw invalidInput(
      'IMPORT_NEEDS_CONFIG',
      `node "${input.name}" has no --config to import users from`,
      'give --config PATH with --import',
    )
  const inbounds = input.inbounds && input.inbounds.length > 0 ? input.inbounds : undefined
  // Read the config now so a wrong path or inbound tag is refused before anything is stored.
  const found = input.config ? await readConfigInbounds(driver, input.config, inbounds) : []
  const {node, result} = await db.transaction().execute(async (trx) => {
    await assertNewNode(trx, input.name)
    const node = await insertNode(trx, {
      name: input.name,
      type,
      api,
      config_path: input.config ?? null,
      inbounds: inbounds ? JSON.stringify(inbounds) : null,
      apply_command: input.apply ?? (input.config ? driver.defaultApplyCommand : null),
      cut_sessions: input.cutSessions ? 1 : 0,
      created_at: context.now,
      last_pull_at: null,
      last_error: null,
      inform_url: inform,
      public_host: publicHost,
      ratio_ten_thousandths: ratio,
      host_interface: hostInterface,
    })
    const view = toNodeView(node)
    return {
      node,
      result: input.import ? {...view, imported: await importUsers(trx, found, {...context, actor: 'import'})} : view,
    }
  })
  // After the commit: asking the build may run a binary, which the write lock must not wait for.
  const advice = (await driver.buildAdvice?.(node)) ?? null
  return advice === null ? result : {...result, warnings: [advice]}
}

/** The stored form of `--public-host`, or exit 2 naming the value. */
function assertPublicHost(value: string): string {
  const address = parsePublicHost(value.trim())
  if (address === undefined) {
    throw invalidInput(
      'PUBLIC_HOST_INVALID',
      `public host "${value}" is not HOST or HOST:PORT`,
      'give the name or address clients dial, e.g. --public-host vpn.example.com or --public-host 203.0.113.7:8443',
    )
  }
  return formatPublicHost(address)
}

/**
 * The stored form of `--interface`: null for "none", else a name this host has an interface of (read once now, so a
 * typo is refused here rather than found at every pull).
 */
function checkedInterface(value: string): string | null {
  if (value.trim().toLowerCase() === 'none') return null
  const name = assertInterfaceName(value.trim())
  readInterfaceCounters(name)
  return name
}

export interface NodeChanges {
  /** HOST or HOST:PORT; null clears it. */
  publicHost?: string | null
  /** Bytes billed per byte counted from now on, as typed; bytes already counted keep theirs. */
  ratio?: string
  /** A host interface name, or "none" to stop comparing. */
  hostInterface?: string
}

/** Changes a node's settings that need no proxy: the address clients dial, the billing ratio, the host interface. */
export async function setNode(db: Db, name: string, changes: NodeChanges): Promise<NodeView> {
  if (changes.publicHost === undefined && changes.ratio === undefined && changes.hostInterface === undefined) {
    throw invalidInput(
      'NOTHING_TO_CHANGE',
      `no change given for node "${name}"`,
      'give --public-host HOST (or "" to clear it), --ratio R, or --interface NAME (or none)',
    )
  }
  const publicHost =
    changes.publicHost === undefined || changes.publicHost === null || changes.publicHost === ''
      ? null
      : assertPublicHost(changes.publicHost)
  const ratio = changes.ratio === undefined ? undefined : parseRatio(changes.ratio)
  const hostInterface = changes.hostInterface === undefined ? undefined : checkedInterface(changes.hostInterface)
  return db.transaction().execute(async (trx) => {
    let node = await requireNode(trx, name)
    if (changes.publicHost !== undefined) {
      await setNodePublicHost(trx, node.id, publicHost)
      node = {...node, public_host: publicHost}
    }
    if (ratio !== undefined) {
      await setNodeRatio(trx, node.id, ratio)
      node = {...node, ratio_ten_thousandths: ratio}
    }
    if (hostInterface !== undefined) {
      if (driverOf(node).traffic === 'pushed') throw interfaceNotForPushed(name)
      // The same interface again keeps its reading, so a repeated set loses no interval.
      if (hostInterface !== node.host_interface) await setNodeInterface(trx, node.id, hostInterface)
      node = {...node, host_interface: hostInterface}
    }
    return toNodeView(node, (await latestInterfaceDays(trx)).get(node.id))
  })
}

function interfaceNotForPushed(name: string) {
  return invalidInput(
    'NOT_FOR_3X_UI',
    `3x-ui node "${name}" takes no --interface`,
    'its traffic reaches sbq serve as reports, so there is no pull to compare with a host interface',
  )
}

async function assertNewNode(db: Db, name: string): Promise<void> {
  if (await findNode(db, name))
    throw conflict('NODE_EXISTS', `node "${name}" already exists`, `see: sbq node show ${name}`)
}

/**
 * A 3x-ui node: fed by its own POSTs to `sbq serve`, with a random token in the URL. With a panel login, sbq checks
 * it now (exit 4 when refused) and later switches clients off and on through it.
 */
async function addReportingNode(
  db: Db,
  input: NodeInput,
  ratio: number,
  driver: ProxyDriver,
  context: Context,
): Promise<NodeView & InformSecret> {
  if (
    input.api !== undefined ||
    input.config !== undefined ||
    input.import ||
    input.inform !== undefined ||
    (input.inbounds?.length ?? 0) > 0 ||
    input.apply !== undefined
  ) {
    throw invalidInput(
      'NOT_FOR_3X_UI',
      `3x-ui node "${input.name}" takes no --api, --config, --import, --inbound, --apply or --inform`,
      'it reports by itself; give --public-url and, to enforce quotas, --panel-url, --panel-user and --panel-password',
    )
  }
  if (input.hostInterface !== undefined) throw interfaceNotForPushed(input.name)
  const publicUrl = assertBaseUrl('--public-url', input.publicUrl ?? defaultPublicUrl)
  const panel = await checkedPanel(input, driver)
  const token = newInformToken()
  const node = await db.transaction().execute(async (trx) => {
    await assertNewNode(trx, input.name)
    return insertNode(trx, {
      name: input.name,
      type: input.type,
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
      ratio_ten_thousandths: ratio,
    })
  })
  return {...toNodeView(node), informUri: informUri(publicUrl, node.name, token)}
}

async function checkedPanel(input: NodeInput, driver: ProxyDriver): Promise<PanelLogin | null> {
  const {url, user, password} = input.panel ?? {}
  if (url === undefined && user === undefined && password === undefined) return null
  if (url === undefined || user === undefined || password === undefined) {
    throw invalidInput(
      'PANEL_LOGIN_INCOMPLETE',
      `3x-ui node "${input.name}" needs all of --panel-url, --panel-user and --panel-password`,
      'give all three, or none to only receive its traffic',
    )
  }
  const credentials = {url: assertBaseUrl('--panel-url', url), user, password}
  await driver.checkPanelLogin?.(credentials)
  return credentials
}

/** A new inform token for a 3x-ui node; the old one stops working at once. */
export async function rotateInformToken(
  db: Db,
  name: string,
  publicUrl: string | undefined,
): Promise<{name: string} & InformSecret> {
  const node = await requireNode(db, name)
  if (driverOf(node).traffic !== 'pushed')
    throw invalidInput(
      'NODE_HAS_NO_TOKEN',
      `node "${name}" is ${node.type} and has no inform token`,
      'only 3x-ui nodes report to sbq serve',
    )
  const base =
    publicUrl === undefined ? (node.public_url ?? defaultPublicUrl) : assertBaseUrl('--public-url', publicUrl)
  const token = newInformToken()
  await setInformToken(db, node.id, hashInformToken(token), base)
  return {name, informUri: informUri(base, name, token)}
}

export async function listNodes(db: Db): Promise<NodeView[]> {
  const days = await latestInterfaceDays(db)
  return (await listNodeRows(db)).map((node) => toNodeView(node, days.get(node.id)))
}

export async function requireNode(db: Db, name: string): Promise<NodeRow> {
  const node = await findNode(db, name)
  if (!node) throw notFound('NODE_NOT_FOUND', `node "${name}" does not exist`, 'see: sbq node list')
  return node
}

export async function showNode(db: Db, name: string): Promise<NodeView> {
  const node = await requireNode(db, name)
  return toNodeView(node, (await latestInterfaceDays(db)).get(node.id))
}

export async function removeNode(db: Db, name: string): Promise<{name: string; removed: true}> {
  const node = await requireNode(db, name)
  await deleteNode(db, node.id)
  return {name, removed: true}
}

export interface NodeTest extends NodeProbe {
  name: string
  ok: true
}

/** Reaches the node once; throws the driver's exit-4 error when it cannot. */
export async function testNode(db: Db, name: string): Promise<NodeTest> {
  const node = await requireNode(db, name)
  const probe = await driverOf(node).probe(node)
  return {name, ok: true, ...probe}
}
