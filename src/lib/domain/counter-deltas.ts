import type {CounterLifetime, StatsSnapshot} from './traffic.js'
import {CounterValues, type UserCounters} from './counter-values.js'

/** What sbq remembers of a node's counters after a pull. */
export interface Baseline {
  takenAt: number
  uptimeSeconds: number | null
  counters: CounterValues
}

export interface TrafficDelta {
  up: number
  down: number
}

export interface CounterDeltas {
  /** The first pull of a node: counters already there predate sbq and are not billed. */
  baselineOnly: boolean
  /** The proxy restarted since the last pull, so every value counted from zero again (never where counters live per user). */
  restarted: boolean
  /** New traffic per user name (from `user>>>NAME>>>traffic>>>uplink|downlink`). */
  users: Map<string, TrafficDelta>
  /** The counters to remember for next time. */
  next: CounterValues
}

/**
 * Turns a node's cumulative counters into new traffic, given what was seen last time. Counters are read without
 * reset, so nothing is lost when a write after the read fails: the next pull sees the same cumulative values.
 * Where counters live as long as the process, it restarted when its uptime says it started after the last pull, or
 * when a counter went down or vanished: then every value is new traffic. Where they live per user, only a user whose
 * counter went down starts again from 0. `now` is the real wall clock when the snapshot was read, comparable with
 * the proxy's uptime.
 */
export function counterDeltas(
  previous: Baseline | null,
  snapshot: StatsSnapshot,
  now: number,
  lifetime: CounterLifetime = 'process',
): CounterDeltas {
  // A name sent twice counts once, at its last value, as the proxy's own map holds it.
  const next = new CounterValues()
  for (const {name, value} of snapshot.counters) next.set(name, value)
  const users = new Map<string, TrafficDelta>()
  if (previous === null) return {baselineOnly: true, restarted: false, users, next}
  if (lifetime === 'user')
    return {baselineOnly: false, restarted: false, users: perUserDeltas(previous.counters, next), next}

  // Bill each user against their last values, noticing on the way whether any counter went down or vanished (then
  // the proxy restarted, and every value is billed in full instead).
  const before = previous.counters
  let seenBefore = 0
  let wentDown = false
  const since = (value: number | undefined, last: number | undefined): number => {
    if (value === undefined) return 0
    if (last === undefined) return value
    seenBefore++
    if (value < last) wentDown = true
    return value - last
  }
  for (const [user, counters] of next.users) {
    const last = before.users.get(user)
    addTraffic(users, user, since(counters.up, last?.up), since(counters.down, last?.down))
  }
  for (const [name, value] of next.others) since(value, before.others.get(name))
  const vanished = seenBefore < before.size
  const restarted = wentDown || vanished || startedSince(previous, snapshot, now)
  if (restarted) {
    users.clear()
    for (const [user, counters] of next.users) addTraffic(users, user, counters.up ?? 0, counters.down ?? 0)
  }
  return {baselineOnly: false, restarted, users, next}
}

/**
 * Where a user's counters end with the user (sing-box SSM), one that went down means that user was removed and added
 * again: both directions were dropped together and count from 0. A user who vanished drops out of the baseline, so
 * coming back later counts from 0 too. The others continue; inbound totals say nothing about one user.
 */
function perUserDeltas(before: CounterValues, next: CounterValues): Map<string, TrafficDelta> {
  const users = new Map<string, TrafficDelta>()
  for (const [user, counters] of next.users) {
    const last = before.users.get(user)
    const from: UserCounters | undefined = last !== undefined && !startedAgain(counters, last) ? last : undefined
    addTraffic(users, user, (counters.up ?? 0) - (from?.up ?? 0), (counters.down ?? 0) - (from?.down ?? 0))
  }
  return users
}

function startedAgain(now: UserCounters, last: UserCounters): boolean {
  return (
    (now.up !== undefined && last.up !== undefined && now.up < last.up) ||
    (now.down !== undefined && last.down !== undefined && now.down < last.down)
  )
}

/** Adds a user's new bytes, each direction only when it grew. */
function addTraffic(users: Map<string, TrafficDelta>, user: string, up: number, down: number): void {
  if (up <= 0 && down <= 0) return
  users.set(user, {up: up > 0 ? up : 0, down: down > 0 ? down : 0})
}

/**
 * Uptime comes in whole seconds and is read a moment after `now`, so estimates of when the proxy started wobble by up
 * to two seconds: a false "restarted" would bill every byte twice, a missed one only undercounts.
 */
const uptimeMarginMs = 2000

/** The proxy's uptime says it started after the last pull. */
function startedSince(previous: Baseline, snapshot: StatsSnapshot, now: number): boolean {
  if (snapshot.uptimeSeconds === null || previous.uptimeSeconds === null) return false
  const startedBefore = previous.takenAt - previous.uptimeSeconds * 1000
  const startedNow = now - snapshot.uptimeSeconds * 1000
  return startedNow > startedBefore + uptimeMarginMs
}
