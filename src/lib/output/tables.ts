import type {ChalkInstance} from 'chalk'

import type {PlanView} from '../plans/plan-service.js'
import type {SettingView} from '../settings/settings.js'
import type {UserCredentials} from '../proxies/proxy-driver.js'
import type {UserDetail} from '../users/user-service.js'
import type {UserView} from '../domain/user.js'
import {describeResetRule, storedResetRule, type ResetRule} from '../domain/reset-rules.js'
import {formatDate, formatInstant, formatQuota, formatSize, statusText, usageBar} from './format.js'
import {grid, table} from './grid.js'
import {sparkline} from './report-tables.js'

/** What the period allowance is called under a rule: `monthly quota`, `weekly quota`, `quota per 30 days`. */
function allowanceLabel(rule: ResetRule): string {
  switch (rule.every) {
    case 'month':
      return 'monthly quota'
    case 'week':
      return 'weekly quota'
    case 'day':
      return 'daily quota'
    case 'year':
      return 'yearly quota'
    case 'rolling':
      return `quota per ${rule.days} days`
    case 'never':
      return 'period quota'
  }
}

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
      allowanceLabel(storedResetRule(user.reset)),
      formatQuota(user.monthlyQuota) +
        (user.topups > 0 ? ` + ${formatSize(user.topups)} top-ups` : '') +
        (user.packagesLeft > 0 ? ` + ${formatSize(user.packagesLeft)} in packages` : ''),
    ],
    ['total quota', formatQuota(user.totalQuota)],
    [
      'period',
      user.periodEnd === null
        ? `since ${formatInstant(user.periodStart, timeZone)} (never resets)`
        : `${formatInstant(user.periodStart, timeZone)} → ${formatInstant(user.periodEnd, timeZone)} (resets ${describeResetRule(storedResetRule(user.reset))})`,
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
    [
      'expires',
      user.firstUse === null
        ? formatInstant(user.expiresAt, timeZone)
        : `${user.firstUse.expiresAfter} after first use${user.firstUse.by === null ? '' : ` (starts by ${formatInstant(user.firstUse.by, timeZone)} if unused)`}`,
    ],
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
  if (user.packages.length > 0) {
    const packages = table(['bought', 'size', 'used', 'left', 'valid until', 'state', 'note'], style)
    for (const pack of user.packages)
      packages.push([
        formatInstant(pack.at, timeZone),
        formatSize(pack.bytes),
        formatSize(pack.used),
        formatSize(pack.left),
        formatInstant(pack.validUntil, timeZone),
        pack.state,
        pack.note ?? '',
      ])
    parts.push(style.bold('traffic packages') + '\n' + packages.toString())
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
  const out = table(['plan', 'allowance', 'total', 'resets', 'max IPs', 'inbounds', 'users'], style)
  for (const plan of plans) {
    out.push([
      plan.name,
      formatQuota(plan.monthlyQuota),
      formatQuota(plan.totalQuota),
      describeResetRule(storedResetRule(plan.reset)),
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
