import type {Context} from '../context.js'
import {dashboardTotals, monthTrafficOfUsers, planNames, usersPage} from '../db/dashboard-repository.js'
import {listNodes} from '../db/nodes-repository.js'
import type {Db} from '../db/open-database.js'
import {findUserRecordsById} from '../db/users-repository.js'
import {currentMonth} from '../domain/month-range.js'
import {periodSeries} from '../reports/user-usage-history.js'
import {requireUser, showUser} from '../users/user-service.js'
import {subscriptionAddress} from '../share-links/subscription.js'
import {qrSvg} from './qr-svg.js'
import {toUserView} from '../domain/user.js'
import type {DashboardView} from './pages/dashboard-page.js'
import type {UserPageView} from './pages/user-page.js'
import {pageSize, type UsersQuery} from './users-query.js'

/** Everything the dashboard page shows: the cards, one page of the users table, the nodes. */
export async function loadDashboard(db: Db, query: UsersQuery, context: Context): Promise<DashboardView> {
  const month = currentMonth(context.now, context.timeZone)
  const pageQuery = {
    search: query.search,
    status: query.status ?? undefined,
    sort: query.sort,
    descending: query.descending,
    limit: pageSize,
    offset: (query.page - 1) * pageSize,
    now: context.now,
  }
  const [totals, monthBytes, page, nodes] = await Promise.all([
    dashboardTotals(db, context.now),
    monthTrafficOfUsers(db, month.firstDay, month.endDay),
    usersPage(db, pageQuery),
    listNodes(db),
  ])
  const records = await findUserRecordsById(db, page.ids)
  return {
    totals,
    monthBytes,
    month: month.month,
    users: records.map((record) => toUserView(record, context)),
    matching: page.total,
    query,
    nodes: nodes.map((node) => ({
      name: node.name,
      type: node.type,
      lastReportAt: node.last_pull_at,
      lastError: node.last_error,
      refusedReports: node.refused_reports,
      refusedNames: node.refused_names,
      lastRefusal:
        node.last_refused_at === null
          ? null
          : {at: node.last_refused_at, status: node.last_refusal_status, reason: node.last_refusal_reason ?? ''},
    })),
    timeZone: context.timeZone,
  }
}

/**
 * A user's page: `user show` (with credentials only when asked), the current period's days, the plan menu, and the
 * subscription (its token made on first view), as whole URLs on `subscription-url` or else on `origin`.
 */
export async function loadUserPage(
  db: Db,
  name: string,
  options: {secrets: boolean; origin: string},
  context: Context,
): Promise<UserPageView> {
  const user = await showUser(db, name, {secrets: options.secrets}, context)
  const [period, plans, address] = await Promise.all([
    periodSeries(db, user, context),
    planNames(db),
    subscriptionAddress(db, await requireUser(db, user.name), context),
  ])
  const url = address.url ?? `${options.origin}${address.path}`
  return {
    user,
    periodDays: period.days,
    periodLength: period.length,
    plans,
    subscription: {url, pageUrl: address.pageUrl ?? `${options.origin}${address.pagePath}`, qr: await qrSvg(url)},
    timeZone: context.timeZone,
  }
}
