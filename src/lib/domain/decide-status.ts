import type {UserStatus} from './user.js'
import type {UserView} from './user.js'

export interface StatusDecision {
  user: string
  from: UserStatus
  to: UserStatus
  reason: string
}

type Judged = Pick<
  UserView,
  | 'name'
  | 'status'
  | 'expiresAt'
  | 'monthlyQuota'
  | 'totalQuota'
  | 'periodUsed'
  | 'allowance'
  | 'packagesLeft'
  | 'totalUsed'
  | 'maxIps'
>

export interface SharingRule {
  /** Distinct online IPs seen for this user now, when some node can tell. */
  ipsSeen?: number
  /** The install setting enforce-max-ips: limit (not only report) users over their max-ips. */
  enforceMaxIps: boolean
  /**
   * Until when a user limited for sharing stays limited whatever the count (max-ips-cooldown): the limit ended their
   * connections, so the few or no IPs seen right after it say nothing about whether they still share.
   */
  coolingDownUntil?: number
}

/**
 * Where a user's status must go given their usage, limits and expiry at `now`. Pure: the caller brings the views
 * (period usage already reflects a rolled-over period as zero). Hand-disabled users are never touched.
 */
export function decideStatus(
  user: Judged,
  now: number,
  sharing: SharingRule = {enforceMaxIps: false},
): StatusDecision | null {
  if (user.status === 'disabled') return null
  const target = targetStatus(user, now, sharing)
  if (target.status === user.status) return null
  return {user: user.name, from: user.status, to: target.status, reason: target.reason}
}

/** Why a sharer is limited; `limitedForSharing` recognises it in a stored status reason. */
export function maxIpsReason(ipsSeen: number, maxIps: number): string {
  return `seen on ${ipsSeen} IPs at once, max-ips is ${maxIps}`
}

export function limitedForSharing(user: {status: UserStatus; statusReason: string | null}): boolean {
  return (
    user.status === 'limited' &&
    user.statusReason !== null &&
    /^seen on \d+ IPs at once, max-ips is \d+$/.test(user.statusReason)
  )
}

/** Whether a user is seen on more IPs than their max-ips allows. */
export function overMaxIps(user: Pick<Judged, 'maxIps'>, ipsSeen: number | undefined): boolean {
  return user.maxIps !== null && ipsSeen !== undefined && ipsSeen > user.maxIps
}

/** How a monthly limit's status reason begins: it lifts when the period ends (subscription titles say when). */
export const monthlyLimitReason = 'monthly allowance used'
/** How a lifetime limit's status reason begins: it lifts only when the operator raises the quota. */
export const totalLimitReason = 'total quota used'
/** A sharer kept limited after the IPs went back under max-ips, until the cool-down ends. */
export const maxIpsCoolDownReason = 'max-ips cool-down'

function targetStatus(user: Judged, now: number, sharing: SharingRule): {status: UserStatus; reason: string} {
  if (user.expiresAt !== null && Date.parse(user.expiresAt) <= now)
    return {status: 'expired', reason: `expired at ${user.expiresAt}`}
  if (user.totalQuota > 0 && user.totalUsed >= user.totalQuota) {
    return {status: 'limited', reason: `${totalLimitReason}: ${user.totalUsed} of ${user.totalQuota} bytes`}
  }
  if (user.monthlyQuota > 0 && user.periodUsed >= user.allowance && !(user.packagesLeft > 0)) {
    return {status: 'limited', reason: `${monthlyLimitReason}: ${user.periodUsed} of ${user.allowance} bytes`}
  }
  if (sharing.enforceMaxIps && overMaxIps(user, sharing.ipsSeen)) {
    return {status: 'limited', reason: maxIpsReason(sharing.ipsSeen!, user.maxIps!)}
  }
  if (
    sharing.enforceMaxIps &&
    user.status === 'limited' &&
    sharing.coolingDownUntil !== undefined &&
    now < sharing.coolingDownUntil
  ) {
    return {status: 'limited', reason: maxIpsCoolDownReason}
  }
  return {
    status: 'active',
    reason:
      user.status === 'expired' ? 'expiry moved' : 'within quota again (new period, reset, top-up or raised quota)',
  }
}
