import {readConfigText} from '../config-file/read-config.js'
import type {Db} from '../db/open-database.js'
import type {NodeRow, UserStatus} from '../db/schema.js'
import {readCredentials} from '../db/users-repository.js'
import {parsePublicHost, shareLink, type PublicAddress, type ShareLink} from '../domain/share-links.js'
import type {SubscriptionServer} from '../domain/subscription-configs.js'
import {SbqError} from '../errors.js'
import type {NodeShareInbound} from '../proxies/proxy-driver.js'
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
    const found = await nodeInbounds(node, user.name)
    if (typeof found === 'string') {
      result.nodes.push({node: node.name, links: [], reason: found})
      continue
    }
    const theirs = found.entries.filter((entry) => allowedOn(choice, tagOf(entry)))
    if (theirs.length === 0 && found.entries.length > 0) {
      const reason = `none of its inbounds is in the user's choice (${describeInbounds(choice.inbounds)})`
      result.nodes.push({node: node.name, links: [], reason})
      continue
    }
    const links = theirs.map((entry) =>
      'reason' in entry
        ? entry
        : shareLink(
            entry.inbound,
            {name: user.name, credentials: {...credentials, ...entry.credentials}},
            found.address,
          ),
    )
    result.nodes.push({node: node.name, links, reason: null})
  }
  return result
}

/**
 * Every managed inbound of these nodes that the user's inbound choice gives, with the address clients dial, named
 * `<node>-<tag>`; nodes that give none are left out.
 */
export async function serversOnNodes(
  nodes: readonly NodeRow[],
  user: {name: string} & Pick<ManagedUser, 'inbounds'>,
): Promise<SubscriptionServer[]> {
  const servers: SubscriptionServer[] = []
  for (const node of nodes) {
    const found = await nodeInbounds(node, user.name)
    if (typeof found === 'string') continue
    for (const entry of found.entries) {
      if ('reason' in entry || !allowedOn(user, entry.inbound.tag)) continue
      servers.push({
        name: `${node.name}-${entry.inbound.tag}`,
        inbound: entry.inbound,
        address: found.address,
        credentials: entry.credentials,
      })
    }
  }
  return servers
}

function tagOf(entry: NodeShareInbound): string {
  return 'reason' in entry ? entry.tag : entry.inbound.tag
}

/**
 * A node's inbounds for the user and the address clients dial, or why the node gives no links: from its config file,
 * or, where the node keeps each user's credentials itself (a 3x-ui panel), from the node with those credentials.
 */
async function nodeInbounds(
  node: NodeRow,
  user: string,
): Promise<string | {entries: NodeShareInbound[]; address: PublicAddress}> {
  const driver = driverOf(node)
  const read = driver.readShareInbounds
  if (read === undefined && driver.nodeShareInbounds === undefined)
    return `sbq builds no share links for ${node.type} nodes yet`
  if (read !== undefined && node.config_path === null)
    return `it has no config file to read its inbounds from (sbq node add ... --config PATH)`
  const address = node.public_host === null ? undefined : parsePublicHost(node.public_host)
  if (address === undefined) return `it has no public host (try: sbq node set ${node.name} --public-host HOST)`
  try {
    if (read === undefined) return {entries: await driver.nodeShareInbounds!(node, user), address}
    const inbounds = read(
      await readConfigText(node.config_path!),
      node.config_path!,
      managedInboundTags(node),
      node.api,
    )
    return {entries: inbounds.map((inbound) => ({inbound, credentials: {}})), address}
  } catch (error) {
    if (error instanceof SbqError) return error.message
    throw error
  }
}
