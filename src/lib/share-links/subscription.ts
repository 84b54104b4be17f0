import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {listNodes} from '../db/nodes-repository.js'
import {
  findSubscriptionUser,
  insertSubscriptionTokenIfAbsent,
  readSubscriptionToken,
  writeSubscriptionToken,
} from '../db/subscriptions-repository.js'
import {
  base64LinkList,
  profileTitle,
  profileTitleHeader,
  subscriptionUserinfo,
  type SubscriptionFormat,
} from '../domain/subscriptions.js'
import {inboundsOf, toUserView} from '../domain/user.js'
import {hashInformToken, informTokenMatches, newInformToken} from '../inform/inform-token.js'
import {settingValue} from '../settings/settings.js'
import {requireUser} from '../users/user-service.js'
import {linksOnNodes, serversOnNodes} from './node-links.js'
import {readCredentials, type UserRecord} from '../db/users-repository.js'
import {clashSubscription, singBoxSubscription} from '../domain/subscription-configs.js'

/**
 * Where a user's subscription is: the path on `sbq serve`, and the whole URL once `subscription-url` is set; the
 * user's own page is beside it under the same token.
 */
export interface SubscriptionAddress {
  path: string
  url: string | null
  pagePath: string
  pageUrl: string | null
}

async function addressOf(db: Db, token: string): Promise<SubscriptionAddress> {
  const path = `/sub/${token}`
  const pagePath = `/u/${token}`
  const base = await settingValue(db, 'subscription-url')
  return base === ''
    ? {path, url: null, pagePath, pageUrl: null}
    : {path, url: `${base}${path}`, pagePath, pageUrl: `${base}${pagePath}`}
}

/** The user's subscription address, making the token on first use (once, even when two ask at the same moment). */
export async function subscriptionAddress(
  db: Db,
  user: {id: number},
  context: Pick<Context, 'now'>,
): Promise<SubscriptionAddress> {
  // Read first: pages show the address on every view, and only the first ever needs a write.
  const existing = await readSubscriptionToken(db, user.id)
  if (existing !== undefined) return addressOf(db, existing)
  const fresh = newInformToken()
  const token = await db.transaction().execute(async (trx) => {
    await insertSubscriptionTokenIfAbsent(trx, {
      user_id: user.id,
      token: fresh,
      token_hash: hashInformToken(fresh),
      created_at: context.now,
    })
    return (await readSubscriptionToken(trx, user.id))!
  })
  return addressOf(db, token)
}

/** A new token for the user: the old URL stops working at once. */
export async function rotateSubscription(
  db: Db,
  name: string,
  context: Pick<Context, 'now'>,
): Promise<{user: string; subscription: SubscriptionAddress}> {
  const token = newInformToken()
  const user = await db.transaction().execute(async (trx) => {
    const found = await requireUser(trx, name)
    await writeSubscriptionToken(trx, {
      user_id: found.id,
      token,
      token_hash: hashInformToken(token),
      created_at: context.now,
    })
    return found
  })
  return {user: user.name, subscription: await addressOf(db, token)}
}

/** The user a subscription token belongs to, or undefined for a token nobody has. */
export async function userOfToken(db: Db, token: string): Promise<UserRecord | undefined> {
  const found = await findSubscriptionUser(db, hashInformToken(token))
  // The lookup is by hash; compared again in constant time so that no answer depends on how much of a token matched.
  if (found === undefined || !informTokenMatches(token, found.token_hash)) return undefined
  return requireUser(db, found.name)
}

export interface SubscriptionReply {
  body: string
  contentType: string
  headers: Record<string, string>
}

/**
 * What `/sub/<token>` answers, or undefined for a token nobody has (the caller answers 404 and says nothing more).
 * A user who cannot connect now gets a subscription without servers whose title says why, so the client shows the
 * reason rather than a connection error.
 */
export async function subscriptionReply(
  db: Db,
  token: string,
  format: SubscriptionFormat,
  context: Context,
): Promise<SubscriptionReply | undefined> {
  const user = await userOfToken(db, token)
  if (user === undefined) return undefined
  const view = toUserView(user, context)
  const headers = {
    'subscription-userinfo': subscriptionUserinfo(view),
    'profile-update-interval': '12',
    'profile-title': profileTitleHeader(profileTitle(view)),
    'content-disposition': `attachment; filename="${user.name.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
    'cache-control': 'no-store',
  }
  const nodes = view.status === 'active' ? await listNodes(db) : []
  if (format === 'base64') {
    const links = (await linksOnNodes(db, user, nodes)).nodes.flatMap((node) =>
      node.links.flatMap((entry) => ('link' in entry ? [entry.link] : [])),
    )
    return {body: base64LinkList(links), contentType: 'text/plain; charset=utf-8', headers}
  }
  const credentials = (await readCredentials(db, [user.name])).get(user.name)!
  const servers = await serversOnNodes(nodes, {name: user.name, inbounds: inboundsOf(user)})
  const shareUser = {name: user.name, credentials}
  const config = format === 'clash' ? clashSubscription(servers, shareUser) : singBoxSubscription(servers, shareUser)
  return {
    body: `${JSON.stringify(config, null, 2)}\n`,
    contentType: format === 'clash' ? 'text/yaml; charset=utf-8' : 'application/json; charset=utf-8',
    headers,
  }
}
