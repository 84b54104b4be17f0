import type {ChalkInstance} from 'chalk'
import Table from 'cli-table3'

import type {PlanView} from '../plans/plan-service.js'
import type {SettingView} from '../settings/settings.js'
import type {UserCredentials} from '../proxies/proxy-api.js'
import type {UserDetail} from '../users/user-service.js'
import type {UserView} from '../users/user-view.js'
import {formatDate, formatInstant, formatQuota, formatSize, statusText, usageBar} from './format.js'

function table(head: string[], style: ChalkInstance): Table.Table {
  return new Table({head: head.map((title) => style.bold(title)), style: {head: [], border: []}})
}

/** cli-table3 lays out in time that grows with the square of the rows; long lists get plain aligned columns. */
const boxedRowLimit = 500

function plainColumns(head: string[], rows: string[][], style: ChalkInstance): string {
  const widths = head.map((title, column) => Math.max(title.length, ...rows.map((row) => visibleLength(row[column]!))))
  const line = (cells: string[]) => cells.map((cell, column) => cell + ' '.repeat(widths[column]! - visibleLength(cell))).join('  ').trimEnd()
  return [style.bold(line(head)), ...rows.map(line)].join('\n')
}

function visibleLength(text: string): number {
  return text.replace(/\u001b\[[0-9;]*m/g, '').length
}

export function renderUsers(users: UserView[], timeZone: string, style: ChalkInstance): string {
  if (users.length === 0) return 'no users yet (add one: sbq user add alice --monthly 100)'
  const head = ['name', 'status', 'period used / allowance', '', 'lifetime', 'period end', 'expires']
  const rows = users.map((user) => userRow(user, timeZone, style))
  if (rows.length > boxedRowLimit) return plainColumns(head, rows, style)
  const out = table(head, style)
  out.push(...rows)
  return out.toString()
}

function userRow(user: UserView, timeZone: string, style: ChalkInstance): string[] {
  return [
    user.name,
    statusText(user.status, style),
    `${formatSize(user.periodUsed)} / ${formatQuota(user.allowance)}`,
    usageBar(user.periodUsed, user.allowance, style),
    formatSize(user.totalUsed),
    formatDate(user.periodEnd, timeZone),
    formatDate(user.expiresAt, timeZone),
  ]
}

function keyValues(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([key]) => key.length))
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n')
}

export function renderCredentials(credentials: UserCredentials): string {
  return keyValues([
    ['uuid', credentials.uuid],
    ['password', credentials.password],
    ['ss2022 128-bit key', credentials.password16],
  ])
}

export function renderUser(user: UserView, timeZone: string, style: ChalkInstance): string {
  const rows: Array<[string, string]> = [
    ['name', user.name],
    ['status', statusText(user.status, style) + (user.statusReason ? ` (${user.statusReason})` : '')],
    ['plan', user.plan ?? '-'],
    ['monthly quota', formatQuota(user.monthlyQuota) + (user.topups > 0 ? ` + ${formatSize(user.topups)} top-ups` : '')],
    ['total quota', formatQuota(user.totalQuota)],
    ['period', `${formatInstant(user.periodStart, timeZone)} → ${formatInstant(user.periodEnd, timeZone)} (resets on day ${user.resetDay})`],
    ['period used', `${formatSize(user.periodUsed)} (up ${formatSize(user.periodUp)}, down ${formatSize(user.periodDown)}) ${usageBar(user.periodUsed, user.allowance, style)}`],
    ['lifetime used', formatSize(user.totalUsed)],
    ['expires', formatInstant(user.expiresAt, timeZone)],
  ]
  if (user.maxIps !== null) rows.push(['max IPs', String(user.maxIps)])
  if (user.note) rows.push(['note', user.note])
  return keyValues(rows)
}

export function renderUserDetail(user: UserDetail, timeZone: string, style: ChalkInstance): string {
  const parts = [renderUser(user, timeZone, style)]
  if (user.credentials) parts.push(style.bold('credentials') + '\n' + renderCredentials(user.credentials))
  if (user.topupHistory.length > 0) {
    const topups = table(['when', 'added', 'note'], style)
    for (const topup of user.topupHistory) topups.push([formatInstant(topup.at, timeZone), formatSize(topup.bytes), topup.note ?? ''])
    parts.push(style.bold('top-ups') + '\n' + topups.toString())
  }
  if (user.events.length > 0) {
    const events = table(['when', 'event', 'change', 'reason', 'by'], style)
    for (const event of user.events) {
      events.push([formatInstant(event.at, timeZone), event.kind, event.from || event.to ? `${event.from ?? '-'} → ${event.to ?? '-'}` : '', event.reason ?? '', event.actor])
    }
    parts.push(style.bold('recent events') + '\n' + events.toString())
  }
  return parts.join('\n\n')
}

export function renderPlans(plans: PlanView[], style: ChalkInstance): string {
  if (plans.length === 0) return 'no plans yet (add one: sbq plan add basic --monthly 100)'
  const out = table(['plan', 'monthly', 'total', 'reset day', 'max IPs', 'users'], style)
  for (const plan of plans) {
    out.push([plan.name, formatQuota(plan.monthlyQuota), formatQuota(plan.totalQuota), String(plan.resetDay), plan.maxIps === null ? '-' : String(plan.maxIps), String(plan.users)])
  }
  return out.toString()
}

export function renderSettings(settings: SettingView[], style: ChalkInstance): string {
  return keyValues(settings.map((setting) => [setting.key, setting.value + (setting.isDefault ? style.dim(' (default)') : '')]))
}
