import {readConfigText} from '../config-file/read-config.js'
import type {Db} from '../db/open-database.js'
import type {NodeRow, UserStatus} from '../db/schema.js'
import {readCredentials} from '../db/users-repository.js'
import {
  parsePublicHost,
  shareLink,
  type PublicAddress,
  type ShareInbound,
  type ShareLink,
} from '../domain/share-links.js'
import type {SubscriptionServer} from '../domain/subscription-configs.js'
import {SbqError} from '../errors.js'
import {driverOf} from '../proxies/registry.js'
import {managedInboundTags} from '../proxies/shared/config-sync.js'
import {allowedOn, type ManagedUser} from '../domain/traffic.js'
import {describeInbounds} from '../domain/inbound-choice.js'
import {inboundsOf, type UserFacts} from '../domain/user.js'

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
 * The user's links on these nodes, each node's reason where it gives none; never fails for want of links. Only the
 * inbounds the user's inbound choice gives (their own or their plan's) are theirs.
 */
export async function linksOnNodes(
  db: Db,
  user: {name: string; status: UserStatus} & Pick<UserFacts, 'inbounds' | 'plan_inbounds'>,
  nodes: readonly NodeRow[],
): Promise<UserLinks> {
  const choice = {inbounds: inboundsOf(user)}
  const credentials = (await readCredentials(db, [user.name])).get(user.name)!
  const result: UserLinks = {user: user.name, status: user.status, nodes: []}
  for (const node of nodes) {
    const found = await nodeInbounds(node)
    if (typeof found === 'string') {
      result.nodes.push({node: node.name, links: [], reason: found})
      continue
    }
    const theirs = found.inbounds.filter((inbound) => allowedOn(choice, inbound.tag))
    if (theirs.length === 0 && found.inbounds.length > 0) {
      const reason = `none of its inbounds is in the user's choice (${describeInbounds(choice.inbounds)})`
      result.nodes.push({node: node.name, links: [], reason})
      continue
    }
    const links = theirs.map((inbound) => shareLink(inbound, {name: user.name, credentials}, found.address))
    result.nodes.push({node: node.name, links, reason: null})
  }
  return result
}

/**
 * Every managed inbound of these nodes that the inbound choice gives, with the address clients dial, named
 * `<node>-<tag>`; nodes that give none are left out.
 */
export async function serversOnNodes(
  nodes: readonly NodeRow[],
  choice: Pick<ManagedUser, 'inbounds'>,
): Promise<SubscriptionServer[]> {
  const servers: SubscriptionServer[] = []
  for (const node of nodes) {
    const found = await nodeInbounds(node)
    if (typeof found === 'string') continue
    for (const inbound of found.inbounds.filter((candidate) => allowedOn(choice, candidate.tag)))
      servers.push({name: `${node.name}-${inbound.tag}`, inbound, address: found.address})
  }
  return servers
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
    return {
      inbounds: read(await readConfigText(node.config_path), node.config_path, managedInboundTags(node), node.api),
      address,
    }
  } catch (error) {
    if (error instanceof SbqError) return error.message
    throw error
  }
}
