import type {Context} from '../context.js'
import type {UserRecord} from '../db/users-repository.js'
import {effectiveLimits, periodAllowance} from '../domain/limits.js'
import {currentPeriod} from '../domain/periods.js'
import {iso, type UserView} from '../domain/user.js'

export {iso, type UserView} from '../domain/user.js'

export function limitsOf(record: UserRecord) {
  return effectiveLimits(record, record.plan_name === null ? null : {
    monthly_quota: record.plan_monthly_quota,
    total_quota: record.plan_total_quota,
    reset_day: record.plan_reset_day,
    max_ips: record.plan_max_ips,
  })
}

export function toUserView(record: UserRecord, context: Pick<Context, 'now' | 'timeZone'>): UserView {
  const limits = limitsOf(record)
  const period = currentPeriod({start: record.period_start, end: record.period_end}, context.now, limits.resetDay, context.timeZone)
  // Running counts belong to the stored period; once it has rolled over, the new one has used nothing yet.
  const samePeriod = period.start === record.period_start
  const periodUp = samePeriod ? record.period_up : 0
  const periodDown = samePeriod ? record.period_down : 0
  const topups = samePeriod ? record.period_topups : 0
  return {
    name: record.name,
    status: record.status,
    statusReason: record.status_reason,
    plan: record.plan_name,
    monthlyQuota: limits.monthlyQuota,
    totalQuota: limits.totalQuota,
    resetDay: limits.resetDay,
    maxIps: limits.maxIps,
    expiresAt: record.expires_at === null ? null : iso(record.expires_at),
    note: record.note,
    periodStart: iso(period.start),
    periodEnd: iso(period.end),
    periodUp,
    periodDown,
    periodUsed: periodUp + periodDown,
    topups,
    allowance: periodAllowance(limits.monthlyQuota, topups),
    totalUp: record.total_up,
    totalDown: record.total_down,
    totalUsed: record.total_up + record.total_down,
    createdAt: iso(record.created_at),
  }
}
