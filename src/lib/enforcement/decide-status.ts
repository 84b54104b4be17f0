import type {UserStatus} from '../db/schema.js'
import type {UserView} from '../users/user-view.js'

export interface StatusDecision {
  user: string
  from: UserStatus
  to: UserStatus
  reason: string
}

type Judged = Pick<UserView, 'name' | 'status' | 'expiresAt' | 'monthlyQuota' | 'totalQuota' | 'periodUsed' | 'allowance' | 'totalUsed'>

/**
 * Where a user's status must go given their usage, limits and expiry at `now`. Pure: the caller brings the views
 * (period usage already reflects a rolled-over period as zero). Hand-disabled users are never touched.
 */
export function decideStatus(user: Judged, now: number): StatusDecision | null {
  if (user.status === 'disabled') return null
  const target = targetStatus(user, now)
  if (target.status === user.status) return null
  return {user: user.name, from: user.status, to: target.status, reason: target.reason}
}

function targetStatus(user: Judged, now: number): {status: UserStatus; reason: string} {
  if (user.expiresAt !== null && Date.parse(user.expiresAt) <= now) return {status: 'expired', reason: `expired at ${user.expiresAt}`}
  if (user.totalQuota > 0 && user.totalUsed >= user.totalQuota) {
    return {status: 'limited', reason: `total quota used: ${user.totalUsed} of ${user.totalQuota} bytes`}
  }
  if (user.monthlyQuota > 0 && user.periodUsed >= user.allowance) {
    return {status: 'limited', reason: `monthly allowance used: ${user.periodUsed} of ${user.allowance} bytes`}
  }
  return {status: 'active', reason: user.status === 'expired' ? 'expiry moved' : 'within quota again (new period, reset, top-up or raised quota)'}
}
