import type {Context} from '../context.js'
import {listNodes} from '../db/nodes-repository.js'
import type {Db} from '../db/open-database.js'
import {offReason, type OffReason} from '../domain/subscriptions.js'
import {periodSeries} from '../reports/user-usage-history.js'
import type {DayRow} from '../reports/usage-report.js'
import {showUser} from '../users/user-service.js'
import type {UserView} from '../domain/user.js'
import {linksOnNodes, type NodeLinks} from './node-links.js'
import {subscriptionAddress, userOfToken, type SubscriptionAddress} from './subscription.js'

/** What a user's own page (`/u/<token>`) shows: nothing the operator keeps for themselves (notes, events, other users). */
export interface UserPortal {
  user: Pick<
    UserView,
    | 'name'
    | 'status'
    | 'periodStart'
    | 'periodEnd'
    | 'periodUp'
    | 'periodDown'
    | 'periodUsed'
    | 'monthlyQuota'
    | 'topups'
    | 'allowance'
    | 'packagesLeft'
    | 'totalQuota'
    | 'totalUsed'
    | 'expiresAt'
  >
  /** Why the user cannot connect now; null when active. */
  off: OffReason | null
  /** This period's top-ups, newest first. */
  topups: Array<{at: string; bytes: number}>
  /** The current period's days so far, oldest first, and the days in the whole period. */
  periodDays: DayRow[]
  periodLength: number
  /** The links per node while the user may connect; none otherwise (as the subscription gives none). */
  nodes: NodeLinks[]
  subscription: SubscriptionAddress
}

/** The page of the user a subscription token belongs to, or undefined for a token nobody has. */
export async function userPortal(db: Db, token: string, context: Context): Promise<UserPortal | undefined> {
  const record = await userOfToken(db, token)
  if (record === undefined) return undefined
  const detail = await showUser(db, record.name, {secrets: false}, context)
  const [period, nodes, subscription] = await Promise.all([
    periodSeries(db, detail, context),
    detail.status === 'active' ? listNodes(db) : Promise.resolve([]),
    subscriptionAddress(db, record, context),
  ])
  const links = await linksOnNodes(db, record, nodes)
  return {
    user: {
      name: detail.name,
      status: detail.status,
      periodStart: detail.periodStart,
      periodEnd: detail.periodEnd,
      periodUp: detail.periodUp,
      periodDown: detail.periodDown,
      periodUsed: detail.periodUsed,
      monthlyQuota: detail.monthlyQuota,
      topups: detail.topups,
      allowance: detail.allowance,
      packagesLeft: detail.packagesLeft,
      totalQuota: detail.totalQuota,
      totalUsed: detail.totalUsed,
      expiresAt: detail.expiresAt,
    },
    off: offReason(detail),
    topups: detail.topupHistory
      .filter((topup) => topup.periodStart === detail.periodStart)
      .map((topup) => ({at: topup.at, bytes: topup.bytes})),
    periodDays: period.days,
    periodLength: period.length,
    nodes: links.nodes.filter((node) => node.links.some((entry) => 'link' in entry)),
    subscription,
  }
}
