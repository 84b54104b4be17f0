/** A user's standing, who acts on it, and the plain view of a user that decisions and commands read. */
import {effectiveLimits, periodAllowance, type LimitOverrides} from './limits.js'
import {currentPeriod, endsNever} from './periods.js'
import {formatResetRule, monthlyResetDay} from './reset-rules.js'
import {effectiveExpiry} from './expiry.js'
import {packagesLeft, type OpenPackage} from './traffic-packages.js'
import {effectiveInbounds} from './inbound-choice.js'

export type UserStatus = 'active' | 'disabled' | 'limited' | 'expired'
export const userStatuses: readonly UserStatus[] = ['active', 'disabled', 'limited', 'expired']

export type Actor = 'cli' | 'check' | 'web' | 'import'

/** A user as commands show them; the `--json` shape. Bytes are integers, times ISO 8601. */
export interface UserView {
  name: string
  status: UserStatus
  statusReason: string | null
  plan: string | null
  monthlyQuota: number
  totalQuota: number
  /** The reset rule in force (`monthly:15`, `weekly:mon`, `daily`, `yearly:03-15`, `rolling:30d`, `never`). */
  reset: string
  /** The day of the month periods start on, under a monthly rule; null under any other. */
  resetDay: number | null
  maxIps: number | null
  expiresAt: string | null
  /** While an expiry waits for the user's first byte: its duration and the deadline it starts at anyway. */
  firstUse: {expiresAfter: string; by: string | null} | null
  note: string | null
  /** The inbound tags the user gets (their own choice or their plan's); null: every managed inbound. */
  inbounds: string[] | null
  periodStart: string
  /** Null when the period never ends (`never`). */
  periodEnd: string | null
  /** Billed bytes (each node's bytes times its ratio): what the allowance and total quota are measured against. */
  periodUp: number
  periodDown: number
  periodUsed: number
  topups: number
  allowance: number
  /** What the user's traffic packages still hold: spent once the allowance is used, kept across resets. */
  packagesLeft: number
  totalUp: number
  totalDown: number
  totalUsed: number
  /** The same bytes as the nodes counted them, before their ratios. */
  raw: RawUsage
  createdAt: string
}

export interface RawUsage {
  periodUp: number
  periodDown: number
  periodUsed: number
  totalUp: number
  totalDown: number
  totalUsed: number
}

export function iso(epochMs: number): string {
  return new Date(epochMs).toISOString()
}

/** A user's stored facts, as the view and the limits are computed from them: plain data, no database. */
export interface UserFacts extends LimitOverrides {
  name: string
  status: UserStatus
  status_reason: string | null
  note: string | null
  expires_at: number | null
  /** A first-use expiry still waiting (migration 0017); absent at an older schema. */
  expires_after?: string | null
  first_use_by?: number | null
  created_at: number
  plan_name: string | null
  plan_monthly_quota: number | null
  plan_total_quota: number | null
  /** The plan's reset rule as stored; absent or null: the default. */
  plan_reset?: string | null
  plan_max_ips: number | null
  /** The user's own inbound choice and the plan's, as stored (see inbound-choice.ts); absent: none. */
  inbounds?: string | null
  plan_inbounds?: string | null
  period_start: number
  period_end: number
  period_up: number
  period_down: number
  total_up: number
  total_down: number
  /** Absent on a database from before migration 0016, whose bytes were all billed at 1. */
  raw_period_up?: number
  raw_period_down?: number
  raw_total_up?: number
  raw_total_down?: number
  /** Top-ups bought for the stored period. */
  period_topups: number
  /** Traffic packages with bytes left (absent: none). */
  packages?: OpenPackage[]
}

export function limitsOf(record: UserFacts) {
  return effectiveLimits(
    record,
    record.plan_name === null
      ? null
      : {
          monthly_quota: record.plan_monthly_quota,
          total_quota: record.plan_total_quota,
          reset: record.plan_reset ?? null,
          max_ips: record.plan_max_ips,
        },
  )
}

export function inboundsOf(record: Pick<UserFacts, 'inbounds' | 'plan_inbounds'>): string[] | null {
  const choice = effectiveInbounds(record.inbounds ?? null, record.plan_inbounds ?? null)
  return choice === null ? null : [...choice]
}

export function toUserView(record: UserFacts, context: {now: number; timeZone: string}): UserView {
  const limits = limitsOf(record)
  const expiry = effectiveExpiry(record, context.now, context.timeZone)
  const period = currentPeriod(
    {start: record.period_start, end: record.period_end},
    context.now,
    limits.reset,
    context.timeZone,
  )
  // Running counts belong to the stored period; once it has rolled over, the new one has used nothing yet.
  const samePeriod = period.start === record.period_start
  const periodUp = samePeriod ? record.period_up : 0
  const periodDown = samePeriod ? record.period_down : 0
  const rawPeriodUp = samePeriod ? (record.raw_period_up ?? record.period_up) : 0
  const rawPeriodDown = samePeriod ? (record.raw_period_down ?? record.period_down) : 0
  const rawTotalUp = record.raw_total_up ?? record.total_up
  const rawTotalDown = record.raw_total_down ?? record.total_down
  const topups = samePeriod ? record.period_topups : 0
  return {
    name: record.name,
    status: record.status,
    statusReason: record.status_reason,
    plan: record.plan_name,
    monthlyQuota: limits.monthlyQuota,
    totalQuota: limits.totalQuota,
    reset: formatResetRule(limits.reset),
    resetDay: monthlyResetDay(limits.reset),
    maxIps: limits.maxIps,
    expiresAt: expiry === null ? null : iso(expiry),
    firstUse:
      record.expires_at === null && record.expires_after != null && expiry === null
        ? {
            expiresAfter: record.expires_after,
            by: record.first_use_by == null ? null : iso(record.first_use_by),
          }
        : null,
    note: record.note,
    inbounds: inboundsOf(record),
    periodStart: iso(period.start),
    periodEnd: endsNever(period) ? null : iso(period.end),
    periodUp,
    periodDown,
    periodUsed: periodUp + periodDown,
    topups,
    allowance: periodAllowance(limits.monthlyQuota, topups),
    packagesLeft: packagesLeft(record.packages, context.now),
    totalUp: record.total_up,
    totalDown: record.total_down,
    totalUsed: record.total_up + record.total_down,
    raw: {
      periodUp: rawPeriodUp,
      periodDown: rawPeriodDown,
      periodUsed: rawPeriodUp + rawPeriodDown,
      totalUp: rawTotalUp,
      totalDown: rawTotalDown,
      totalUsed: rawTotalUp + rawTotalDown,
    },
    createdAt: iso(record.created_at),
  }
}
