import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {listNodes} from '../db/nodes-repository.js'
import {invalidInput} from '../errors.js'
import {requireNode} from '../nodes/node-service.js'
import {requireUser} from '../users/user-service.js'
import {linksOnNodes, type UserLinks} from './node-links.js'
import {qrFileName, writeQrPngs} from './qr-png.js'
import {subscriptionAddress, type SubscriptionAddress} from './subscription.js'

export type {LinkEntry, NodeLinks, UserLinks} from './node-links.js'

/**
 * The share links of a user: one per managed inbound of each node (or of `--node`), built from the node's config
 * file and its public host. A node that can give none says why; when no node gives any, that is the error. With
 * `qrPngDir`, each link's QR code is also written there as a PNG. The user's subscription URL comes too (its token
 * made on first use).
 */
export async function userLinks(
  db: Db,
  name: string,
  options: {node?: string; qrPngDir?: string},
  context: Context,
): Promise<UserLinks & {subscription: SubscriptionAddress}> {
  const user = await requireUser(db, name)
  const nodes = options.node === undefined ? await listNodes(db) : [await requireNode(db, options.node)]
  const result = await linksOnNodes(db, user, nodes)
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
  return {...result, subscription: await subscriptionAddress(db, user, context)}
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
