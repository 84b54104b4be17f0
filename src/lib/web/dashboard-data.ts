import type {Context} from '../context.js'
import {dashboardTotals, monthTrafficOfUsers, planNames, usersPage} from '../db/dashboard-repository.js'
import {listNodes} from '../db/nodes-repository.js'
import type {Db} from '../db/open-database.js'
import {findUserRecordsById} from '../db/users-repository.js'
import {currentMonth} from '../domain/month-range.js'
import {dailySeries} from '../reports/user-usage-history.js'
import {toLocal} from '../domain/zoned-time.js'
import {showUser} from '../users/user-service.js'
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

/** Whole local days from one instant's day to another's (calendar arithmetic: DST days count as one). */
function localDaysBetween(from: number, to: number, timeZone: string): number {
  const a = toLocal(from, timeZone)
  const b = toLocal(to, timeZone)
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000)
}

/** A user's page: `user show` (with credentials only when asked), the current period's days, the plan menu. */
export async function loadUserPage(db: Db, name: string, secrets: boolean, context: Context): Promise<UserPageView> {
  const user = await showUser(db, name, {secrets}, context)
  const periodStart = Date.parse(user.periodStart)
  const periodEnd = Date.parse(user.periodEnd)
  const daysSoFar = Math.max(1, localDaysBetween(periodStart, context.now, context.timeZone) + 1)
  const [periodDays, plans] = await Promise.all([dailySeries(db, user.name, daysSoFar, context), planNames(db)])
  return {
    user,
    periodDays,
    periodLength: Math.max(daysSoFar, localDaysBetween(periodStart, periodEnd, context.timeZone)),
    plans,
    timeZone: context.timeZone,
  }
}
