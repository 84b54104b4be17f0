import {defaultResetRule, formatResetRule, storedResetRule, type ResetRule} from './reset-rules.js'

/** The limits in force for a user: their own where set, else their plan's, else none. 0 bytes means unlimited. */
export interface Limits {
  /** The allowance of each period (a month under the default rule, a week under `weekly`, ...). */
  monthlyQuota: number
  totalQuota: number
  reset: ResetRule
  maxIps: number | null
}

export interface LimitOverrides {
  monthly_quota: number | null
  total_quota: number | null
  /** A reset rule as stored (reset-rules.ts); null or absent (read at a schema before rules): the plan's. */
  reset?: string | null
  max_ips: number | null
}

/** The rule of users and plans that name none, as stored. */
export const defaultResetText = formatResetRule(defaultResetRule)

/** The same precedence is written in SQL for the monthly report (listReportUsers): change both together. */
export function effectiveLimits(user: LimitOverrides, plan: Omit<LimitOverrides, never> | null): Limits {
  return {
    monthlyQuota: user.monthly_quota ?? plan?.monthly_quota ?? 0,
    totalQuota: user.total_quota ?? plan?.total_quota ?? 0,
    reset: storedResetRule(user.reset ?? plan?.reset ?? defaultResetText),
    maxIps: user.max_ips ?? plan?.max_ips ?? null,
  }
}

/** What the user may use this period: the monthly quota plus this period's top-ups; 0 when unlimited. */
export function periodAllowance(monthlyQuota: number, topups: number): number {
  return monthlyQuota === 0 ? 0 : monthlyQuota + topups
}
