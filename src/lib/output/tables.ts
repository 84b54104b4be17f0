import type {ChalkInstance} from 'chalk'

import type {PlanView} from '../plans/plan-service.js'
import type {SettingView} from '../settings/settings.js'
import type {UserCredentials} from '../proxies/proxy-driver.js'
import type {UserDetail} from '../users/user-service.js'
import type {UserView} from '../domain/user.js'
import {formatDate, formatInstant, formatQuota, formatSize, statusText, usageBar} from './format.js'
import {grid, table} from './grid.js'
import {sparkline} from './report-tables.js'

export function renderUsers(users: UserView[], timeZone: string, style: ChalkInstance): string {
  if (users.length === 0) return 'no users yet (add one: sbq user add alice --monthly 100)'
  const head = ['name', 'status', 'period used / allowance', '', 'lifetime', 'period end', 'expires']
  return grid(
    head,
    users.map((user) => userRow(user, timeZone, style)),
    style,
  )
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
    [
      'monthly quota',
      formatQuota(user.monthlyQuota) + (user.topups > 0 ? ` + ${formatSize(user.topups)} top-ups` : ''),
    ],
    ['total quota', formatQuota(user.totalQuota)],
    [
      'period',
      `${formatInstant(user.periodStart, timeZone)} → ${formatInstant(user.periodEnd, timeZone)} (resets on day ${user.resetDay})`,
    ],
    [
      'period used',
      `${formatSize(user.periodUsed)} (up ${formatSize(user.periodUp)}, down ${formatSize(user.periodDown)}) ${usageBar(user.periodUsed, user.allowance, style)}`,
    ],
    ['lifetime used', formatSize(user.totalUsed)],
    ...(user.raw.periodUsed !== user.periodUsed || user.raw.totalUsed !== user.totalUsed
      ? [
          [
            'raw (counted)',
            `${formatSize(user.raw.periodUsed)} this period, ${formatSize(user.raw.totalUsed)} lifetime (used is billed: each node's bytes times its ratio)`,
          ] as [string, string],
        ]
      : []),
    ['expires', formatInstant(user.expiresAt, timeZone)],
  ]
  if (user.maxIps !== null) rows.push(['max IPs', String(user.maxIps)])
  if (user.inbounds !== null) rows.push(['inbounds', user.inbounds.join(', ')])
  if (user.note) rows.push(['note', user.note])
  return keyValues(rows)
}

export function renderUserDetail(user: UserDetail, timeZone: string, style: ChalkInstance): string {
  const parts = [renderUser(user, timeZone, style), renderHistory(user, timeZone)]
  if (user.credentials) parts.push(style.bold('credentials') + '\n' + renderCredentials(user.credentials))
  if (user.topupHistory.length > 0) {
    const topups = table(['when', 'added', 'note'], style)
    for (const topup of user.topupHistory)
      topups.push([formatInstant(topup.at, timeZone), formatSize(topup.bytes), topup.note ?? ''])
    parts.push(style.bold('top-ups') + '\n' + topups.toString())
  }
  if (user.events.length > 0) {
    const events = table(['when', 'event', 'change', 'reason', 'by'], style)
    for (const event of user.events) {
      events.push([
        formatInstant(event.at, timeZone),
        event.kind,
        event.from || event.to ? `${event.from ?? '-'} → ${event.to ?? '-'}` : '',
        event.reason ?? '',
        event.actor,
      ])
    }
    parts.push(style.bold('recent events') + '\n' + events.toString())
  }
  return parts.join('\n\n')
}

function renderHistory(user: UserDetail, timeZone: string): string {
  const first = user.last30Days[0]?.day ?? ''
  const last = user.last30Days.at(-1)?.day ?? ''
  const peak = Math.max(0, ...user.last30Days.map((day) => day.total))
  const forecast =
    user.allowance === 0
      ? 'no monthly limit'
      : user.forecastExhaustedAt === null
        ? "not this period (at the last 7 days' rate)"
        : `allowance runs out ${formatInstant(user.forecastExhaustedAt, timeZone)} at the last 7 days' rate`
  return keyValues([
    [
      'last 30 days',
      `${sparkline(user.last30Days.map((day) => day.total))}  ${first} → ${last}, peak ${formatSize(peak)}/day`,
    ],
    ['forecast', forecast],
  ])
}

export function renderPlans(plans: PlanView[], style: ChalkInstance): string {
  if (plans.length === 0) return 'no plans yet (add one: sbq plan add basic --monthly 100)'
  const out = table(['plan', 'monthly', 'total', 'reset day', 'max IPs', 'inbounds', 'users'], style)
  for (const plan of plans) {
    out.push([
      plan.name,
      formatQuota(plan.monthlyQuota),
      formatQuota(plan.totalQuota),
      String(plan.resetDay),
      plan.maxIps === null ? '-' : String(plan.maxIps),
      plan.inbounds === null ? 'all' : plan.inbounds.join(', '),
      String(plan.users),
    ])
  }
  return out.toString()
}

export function renderSettings(settings: SettingView[], style: ChalkInstance): string {
  return keyValues(
    settings.map((setting) => [setting.key, setting.value + (setting.isDefault ? style.dim(' (default)') : '')]),
  )
}
