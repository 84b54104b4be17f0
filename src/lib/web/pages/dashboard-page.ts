import type {DashboardTotals, UsersSort} from '../../db/dashboard-repository.js'
import {userStatuses} from '../../db/schema.js'
import type {UserView} from '../../domain/user.js'
import {usageBar} from '../charts.js'
import {html, type Html} from '../html.js'
import type {MessageKey, Translate} from '../i18n/messages.js'
import {menuOrders, pageSize, usersHref, type UsersQuery} from '../users-query.js'
import {layout, type Frame} from './layout.js'
import {formatDate, formatInstant, formatQuota, formatSize, percentUsed, userPath} from './view-format.js'

export interface DashboardNode {
  name: string
  type: string
  lastReportAt: number | null
  lastError: string | null
  /** Reports sbq serve refused whole (3x-ui never reads the answer, so the dashboard says it). */
  refusedReports: number
  refusedNames: number
  lastRefusal: {at: number; status: number | null; reason: string} | null
}

export interface DashboardView {
  totals: DashboardTotals
  monthBytes: number
  /** YYYY-MM, local. */
  month: string
  /** The page of users, in order. */
  users: UserView[]
  /** Users matching the search and filter. */
  matching: number
  query: UsersQuery
  nodes: DashboardNode[]
  timeZone: string
}

export function statusBadge(status: string, t: Translate): Html {
  return html`<span class="status status-${status}">${t(`status.${status}` as MessageKey)}</span>`
}

function card(label: string, value: string, note?: string, tone = ''): Html {
  return html`<div class="stat ${tone}"><span class="stat-label">${label}</span><strong class="stat-value">${value}</strong>${note === undefined ? '' : html`<span class="stat-note">${note}</span>`}</div>`
}

function cards(view: DashboardView, t: Translate): Html {
  const {totals} = view
  return html`<section class="stats">
${card(t('cards.users'), totals.users.toLocaleString('en-US'))}
${card(t('cards.active'), totals.byStatus.active.toLocaleString('en-US'), undefined, 'tone-ok')}
${card(t('cards.limitedExpired'), (totals.byStatus.limited + totals.byStatus.expired).toLocaleString('en-US'), undefined, totals.byStatus.limited + totals.byStatus.expired > 0 ? 'tone-bad' : '')}
${card(t('cards.disabled'), totals.byStatus.disabled.toLocaleString('en-US'))}
${card(t('cards.period'), formatSize(totals.periodBytes), t('cards.periodNote'))}
${card(t('cards.month'), formatSize(view.monthBytes), t('cards.monthNote', {month: view.month}))}
</section>`
}

const columns: Array<{key: MessageKey; sort: UsersSort | null; className?: string}> = [
  {key: 'users.name', sort: 'name'},
  {key: 'users.status', sort: 'status'},
  {key: 'users.periodUsed', sort: 'used', className: 'col-usage'},
  {key: 'users.lifetime', sort: 'lifetime', className: 'num'},
  {key: 'users.periodEnd', sort: null},
  {key: 'users.expires', sort: 'expires'},
]

function headerCell(column: (typeof columns)[number], query: UsersQuery, t: Translate): Html {
  const label = t(column.key)
  if (column.sort === null) return html`<th scope="col" class="${column.className ?? ''}">${label}</th>`
  const current = query.sort === column.sort
  // A first click sorts the way that is most useful: names A→Z, usage and status with the biggest or worst first.
  const descending = current ? !query.descending : column.sort === 'used' || column.sort === 'lifetime'
  const href = usersHref({...query, sort: column.sort, descending, page: 1})
  const arrow = current ? (query.descending ? ' ▼' : ' ▲') : ''
  const ariaSort = current ? (query.descending ? 'descending' : 'ascending') : 'none'
  return html`<th scope="col" class="${column.className ?? ''}" aria-sort="${ariaSort}"><a href="${href}" title="${t('users.sortBy', {column: label})}">${label}${arrow}</a></th>`
}

function userRow(user: UserView, view: DashboardView, t: Translate): Html {
  const percent = percentUsed(user.periodUsed, user.allowance)
  return html`<tr>
<td data-label="${t('users.name')}"><a class="user-link" href="${userPath(user.name)}">${user.name}</a></td>
<td data-label="${t('users.status')}">${statusBadge(user.status, t)}</td>
<td data-label="${t('users.periodUsed')}" class="col-usage"><div class="usage"><span class="usage-text">${formatSize(user.periodUsed)} / ${formatQuota(user.allowance, t)}</span>${usageBar(user.periodUsed, user.allowance)}<span class="usage-percent">${percent === null ? '' : `${percent}%`}</span></div></td>
<td data-label="${t('users.lifetime')}" class="num">${formatSize(user.totalUsed)}</td>
<td data-label="${t('users.periodEnd')}">${user.periodEnd === null ? t('common.noReset') : formatDate(user.periodEnd, view.timeZone)}</td>
<td data-label="${t('users.expires')}">${formatDate(user.expiresAt, view.timeZone)}</td>
</tr>`
}

function filters(query: UsersQuery, t: Translate): Html {
  const options = userStatuses.map(
    (status) =>
      html`<option value="${status}" ${query.status === status ? html`selected` : ''}>${t(`status.${status}` as MessageKey)}</option>`,
  )
  const sortInputs = html`${query.sort === 'name' ? '' : html`<input type="hidden" name="sort" value="${query.sort}">`}${query.descending ? html`<input type="hidden" name="dir" value="desc">` : ''}`
  const filtered = query.search !== '' || query.status !== null
  const current = `${query.sort}.${query.descending ? 'desc' : 'asc'}`
  const orders = menuOrders.map(
    (order) =>
      html`<option value="${order}" ${order === current ? html`selected` : ''}>${t(`users.order.${order.split('.')[0]}` as MessageKey)}</option>`,
  )
  const orderMenu = html`<select name="order" class="phone-only" aria-label="${t('users.order')}" data-autosubmit><option value="">${t('users.order')}</option>${orders}</select>`
  return html`<form class="filters" method="get" action="/" role="search">
<input type="search" name="q" value="${query.search}" placeholder="${t('users.search')}" aria-label="${t('users.search')}" maxlength="64">
<select name="status" aria-label="${t('users.status')}" data-autosubmit><option value="">${t('users.allStatuses')}</option>${options}</select>
${orderMenu}
${sortInputs}
<button type="submit">${t('users.filter')}</button>
${filtered ? html`<a class="clear" href="${usersHref({...query, search: '', status: null, page: 1})}">${t('users.clear')}</a>` : ''}
</form>`
}

function pager(view: DashboardView, t: Translate): Html {
  const {query, matching} = view
  if (matching === 0) return html``
  const from = (query.page - 1) * pageSize + 1
  const to = Math.min(matching, query.page * pageSize)
  const last = Math.max(1, Math.ceil(matching / pageSize))
  const previous =
    query.page > 1
      ? html`<a rel="prev" href="${usersHref({...query, page: Math.min(query.page - 1, last)})}">← ${t('users.previous')}</a>`
      : html`<span class="disabled">← ${t('users.previous')}</span>`
  const next =
    query.page < last
      ? html`<a rel="next" href="${usersHref({...query, page: query.page + 1})}">${t('users.next')} →</a>`
      : html`<span class="disabled">${t('users.next')} →</span>`
  const range =
    from <= to
      ? t('users.range', {
          from: from.toLocaleString('en-US'),
          to: to.toLocaleString('en-US'),
          total: matching.toLocaleString('en-US'),
        })
      : ''
  return html`<nav class="pager" aria-label="pages">${previous}<span class="range">${range}</span>${next}</nav>`
}

function nodesSection(view: DashboardView, t: Translate): Html {
  const body =
    view.nodes.length === 0
      ? html`<p class="empty">${t('nodes.none')}</p>`
      : html`<table class="table stack"><thead><tr><th scope="col">${t('nodes.name')}</th><th scope="col">${t('nodes.type')}</th><th scope="col">${t('nodes.lastReport')}</th><th scope="col">${t('nodes.lastError')}</th><th scope="col">${t('nodes.refused')}</th></tr></thead><tbody>${view.nodes.map(
          (node) =>
            html`<tr><td data-label="${t('nodes.name')}">${node.name}</td><td data-label="${t('nodes.type')}">${node.type}</td><td data-label="${t('nodes.lastReport')}">${node.lastReportAt === null ? t('common.never') : formatInstant(new Date(node.lastReportAt).toISOString(), view.timeZone)}</td><td data-label="${t('nodes.lastError')}" class="${node.lastError === null ? '' : 'error-text'}">${node.lastError ?? t('common.none')}</td>${refusedCell(node, view.timeZone, t)}</tr>`,
        )}</tbody></table>`
  return html`<section class="card"><h2>${t('nodes.title')}</h2>${body}</section>`
}

function refusedCell(node: DashboardNode, timeZone: string, t: Translate): Html {
  if (node.lastRefusal === null) return html`<td data-label="${t('nodes.refused')}">${t('common.none')}</td>`
  const refusal = node.lastRefusal
  const text = t('nodes.refusedLast', {
    reports: String(node.refusedReports),
    names: String(node.refusedNames),
    at: formatInstant(new Date(refusal.at).toISOString(), timeZone),
    status: refusal.status === null ? '-' : String(refusal.status),
    reason: refusal.reason,
  })
  return html`<td data-label="${t('nodes.refused')}" class="error-text">${text}</td>`
}

export function dashboardPage(frame: Frame, view: DashboardView): Html {
  const {t} = frame
  const empty = view.totals.users === 0 ? t('users.none') : t('users.noMatch')
  const table =
    view.users.length === 0
      ? html`<p class="empty">${empty}</p>`
      : html`<table class="table stack users"><thead><tr>${columns.map((column) => headerCell(column, view.query, t))}</tr></thead><tbody>${view.users.map((user) => userRow(user, view, t))}</tbody></table>`
  return layout(
    frame,
    t('nav.dashboard'),
    html`${cards(view, t)}
<section class="card">
<div class="card-head"><h2>${t('users.title')}</h2><a class="button primary" href="/add">${t('nav.addUser')}</a></div>
${filters(view.query, t)}
${table}
${pager(view, t)}
</section>
${nodesSection(view, t)}`,
  )
}
