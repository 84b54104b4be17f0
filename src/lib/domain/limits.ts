/** The limits in force for a user: their own where set, else their plan's, else none. 0 bytes means unlimited. */
export interface Limits {
  monthlyQuota: number
  totalQuota: number
  resetDay: number
  maxIps: number | null
}

export interface LimitOverrides {
  monthly_quota: number | null
  total_quota: number | null
  reset_day: number | null
  max_ips: number | null
}

export const defaultResetDay = 1

/** The same precedence is written in SQL for the monthly report (listReportUsers): change both together. */
export function effectiveLimits(user: LimitOverrides, plan: Omit<LimitOverrides, never> | null): Limits {
  return {
    monthlyQuota: user.monthly_quota ?? plan?.monthly_quota ?? 0,
    totalQuota: user.total_quota ?? plan?.total_quota ?? 0,
    resetDay: user.reset_day ?? plan?.reset_day ?? defaultResetDay,
    maxIps: user.max_ips ?? plan?.max_ips ?? null,
  }
}

/** What the user may use this period: the monthly quota plus this period's top-ups; 0 when unlimited. */
export function periodAllowance(monthlyQuota: number, topups: number): number {
  return monthlyQuota === 0 ? 0 : monthlyQuota + topups
}
