import type {UserView} from './user.js'

export type AlertKind = 'threshold' | 'expiry-soon' | 'limited' | 'expired' | 're-enabled' | 'max-ips' | 'drift'

/**
 * What an alert is about: a user's standing at the moment it was raised, or for `drift` a node's day (see
 * `driftAlert`). Bytes are integers, times epoch ms.
 */
export interface Alert {
  kind: AlertKind
  /** The user's name; for `drift`, the node's. */
  user: string
  /** Percent for `threshold` and `drift`, days for `expiry-soon`, allowed IPs for `max-ips`; null for the others. */
  threshold: number | null
  periodStart: number
  periodUsed: number
  /** 0 means unlimited. */
  allowance: number
  expiresAt: number | null
  at: number
  /** Distinct IPs seen, for `max-ips` only. */
  ipsSeen?: number
  /** The host interface compared with, for `drift` only. */
  hostInterface?: string
}

/** The part of a user the alert rules look at. */
export interface UserAlertState {
  name: string
  periodStart: number
  periodUsed: number
  allowance: number
  expiresAt: number | null
}

export interface AlertRules {
  /** Percentages of the period's allowance, ascending. */
  thresholds: number[]
  /** Days before expiry to warn; 0 for never. */
  expiryDays: number
}

const dayMs = 24 * 60 * 60 * 1000

export function alertStateOf(user: UserView): UserAlertState {
  return {
    name: user.name,
    periodStart: Date.parse(user.periodStart),
    periodUsed: user.periodUsed,
    allowance: user.allowance,
    expiresAt: user.expiresAt === null ? null : Date.parse(user.expiresAt),
  }
}

/**
 * The threshold and expiry alerts a check should raise at `now`: every threshold the period's usage has reached, and
 * an expiry warning inside the window. They are raised on every check while true; the outbox's unique key is what
 * makes each one fire once per user, threshold and period.
 */
export function dueAlerts(users: UserAlertState[], rules: AlertRules, now: number): Alert[] {
  const due: Alert[] = []
  for (const user of users) {
    for (const percent of rules.thresholds) {
      if (reached(user.periodUsed, user.allowance, percent)) due.push(alertFor('threshold', user, percent, now))
    }
    if (expiresWithin(user.expiresAt, rules.expiryDays, now))
      due.push(alertFor('expiry-soon', user, rules.expiryDays, now))
  }
  return due
}

/** The alert for a status change the check made: limited, expired or re-enabled. */
export function statusChangeAlert(
  kind: 'limited' | 'expired' | 're-enabled',
  user: UserAlertState,
  now: number,
): Alert {
  return alertFor(kind, user, null, now)
}

export function maxIpsAlert(user: UserAlertState, maxIps: number, ipsSeen: number, now: number): Alert {
  return {...alertFor('max-ips', user, maxIps, now), ipsSeen}
}

/**
 * A node whose counted bytes fell below `drift-threshold` percent of half its host interface's bytes on the day that
 * started at `dayStart`: the period is that day, `periodUsed` the counted bytes and `allowance` the interface's. Raised
 * on every check while true; the unique key (node, kind, threshold, day) makes it fire once a node and day.
 */
export function driftAlert(
  drift: {node: string; hostInterface: string; thresholdPercent: number; countedBytes: number; interfaceBytes: number},
  dayStart: number,
  now: number,
): Alert {
  return {
    kind: 'drift',
    user: drift.node,
    threshold: drift.thresholdPercent,
    periodStart: dayStart,
    periodUsed: drift.countedBytes,
    allowance: drift.interfaceBytes,
    expiresAt: null,
    at: now,
    hostInterface: drift.hostInterface,
  }
}

// Exact for any byte count: used * 100 can pass 2^53 long before usage does.
function reached(used: number, allowance: number, percent: number): boolean {
  if (allowance === 0) return false
  return BigInt(used) * 100n >= BigInt(allowance) * BigInt(percent)
}

function expiresWithin(expiresAt: number | null, days: number, now: number): boolean {
  return expiresAt !== null && days > 0 && now < expiresAt && expiresAt - now <= days * dayMs
}

function alertFor(kind: AlertKind, user: UserAlertState, threshold: number | null, now: number): Alert {
  return {
    kind,
    user: user.name,
    threshold,
    periodStart: user.periodStart,
    periodUsed: user.periodUsed,
    allowance: user.allowance,
    expiresAt: user.expiresAt,
    at: now,
  }
}
