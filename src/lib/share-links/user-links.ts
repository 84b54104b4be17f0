import {readConfigText} from '../config-file/read-config.js'
import type {Db} from '../db/open-database.js'
import {listNodes} from '../db/nodes-repository.js'
import type {NodeRow, UserStatus} from '../db/schema.js'
import {readCredentials} from '../db/users-repository.js'
import {
  parsePublicHost,
  shareLink,
  type PublicAddress,
  type ShareInbound,
  type ShareLink,
} from '../domain/share-links.js'
import {SbqError, invalidInput} from '../errors.js'
import {requireNode} from '../nodes/node-service.js'
import {driverOf} from '../proxies/registry.js'
import {managedInboundTags} from '../proxies/shared/config-sync.js'
import {requireUser} from '../users/user-service.js'
import {qrFileName, writeQrPngs} from './qr-png.js'

/** A link, with the PNG of its QR code when `--qr-png` asked for one. */
export type LinkEntry = ShareLink & {png?: string}

export interface NodeLinks {
  node: string
  /** One per managed inbound: a link, or the reason that inbound has none. */
  links: LinkEntry[]
  /** Why the node gave no links at all (no public host, no config, a type sbq builds none for). */
  reason: string | null
}

export interface UserLinks {
  user: string
  status: UserStatus
  nodes: NodeLinks[]
}

/**
 * The share links of a user: one per managed inbound of each node (or of `--node`), built from the node's config
 * file and its public host. A node that can give none says why; when no node gives any, that is the error. With
 * `qrPngDir`, each link's QR code is also written there as a PNG.
 */
export async function userLinks(db: Db, name: string, options: {node?: string; qrPngDir?: string}): Promise<UserLinks> {
  const user = await requireUser(db, name)
  const credentials = (await readCredentials(db, [user.name])).get(user.name)!
  const nodes = options.node === undefined ? await listNodes(db) : [await requireNode(db, options.node)]
  const result: UserLinks = {user: user.name, status: user.status, nodes: []}
  for (const node of nodes) {
    const found = await nodeInbounds(node)
    if (typeof found === 'string') {
      result.nodes.push({node: node.name, links: [], reason: found})
      continue
    }
    const links = found.inbounds.map((inbound) => shareLink(inbound, {name: user.name, credentials}, found.address))
    result.nodes.push({node: node.name, links, reason: null})
  }
  if (!result.nodes.some((node) => node.links.some((link) => 'link' in link))) {
    const first = result.nodes.find((node) => node.reason !== null)
    throw invalidInput(
      'NO_SHARE_LINK',
      nodes.length === 0
        ? `user "${user.name}" has no link: sbq has no node`
        : `user "${user.name}" has no link: ${first === undefined ? 'no managed inbound has a share-link form' : `node "${first.node}": ${first.reason}`}`,
      nodes.length === 0
        ? 'add one: sbq node add NAME --type xray --api HOST:PORT --config PATH --public-host HOST'
        : `see every node's reason: sbq user link ${user.name} --json`,
    )
  }
  if (options.qrPngDir !== undefined) await addQrPngs(result, options.qrPngDir)
  return result
}

async function addQrPngs(result: UserLinks, dir: string): Promise<void> {
  const entries = result.nodes.flatMap((node) =>
    node.links.flatMap((entry) => ('link' in entry ? [{node: node.node, entry}] : [])),
  )
  const paths = await writeQrPngs(
    dir,
    entries.map(({node, entry}) => ({file: qrFileName(result.user, node, entry.tag), link: entry.link})),
  )
  entries.forEach(({entry}, index) => (entry.png = paths[index]))
}

/** A node's managed inbounds and the address clients dial, or why the node gives no links. */
async function nodeInbounds(node: NodeRow): Promise<string | {inbounds: ShareInbound[]; address: PublicAddress}> {
  const read = driverOf(node).readShareInbounds
  if (read === undefined) return `sbq builds no share links for ${node.type} nodes yet`
  if (node.config_path === null)
    return `it has no config file to read its inbounds from (sbq node add ... --config PATH)`
  const address = node.public_host === null ? undefined : parsePublicHost(node.public_host)
  if (address === undefined) return `it has no public host (try: sbq node set ${node.name} --public-host HOST)`
  try {
    return {inbounds: read(await readConfigText(node.config_path), node.config_path, managedInboundTags(node)), address}
  } catch (error) {
    if (error instanceof SbqError) return error.message
    throw error
  }
}
