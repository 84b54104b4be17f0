import type {StatsSnapshot} from '../proxies/proxy-api.js'
import {CounterValues} from './counter-values.js'

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
  /** The proxy restarted since the last pull, so every value counted from zero again. */
  restarted: boolean
  /** New traffic per user name (from `user>>>NAME>>>traffic>>>uplink|downlink`). */
  users: Map<string, TrafficDelta>
  /** The counters to remember for next time. */
  next: CounterValues
}

/**
 * Turns a node's cumulative counters into new traffic, given what was seen last time. Counters are read without
 * reset, so nothing is lost when a write after the read fails: the next pull sees the same cumulative values.
 * The proxy restarted when its uptime says it started after the last pull, when a counter went down, or (where
 * counters outlive users) when a counter vanished: then every value is new traffic. `now` is the real wall clock
 * when the snapshot was read, comparable with the proxy's uptime.
 */
export function counterDeltas(previous: Baseline | null, snapshot: StatsSnapshot, now: number, rules: CounterRules = {countersOutliveUsers: true}): CounterDeltas {
  // A name sent twice counts once, at its last value, as the proxy's own map holds it.
  const next = new CounterValues()
  for (const {name, value} of snapshot.counters) next.set(name, value)
  const users = new Map<string, TrafficDelta>()
  if (previous === null) return {baselineOnly: true, restarted: false, users, next}

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
  const vanished = rules.countersOutliveUsers && seenBefore < before.size
  const restarted = wentDown || vanished || startedSince(previous, snapshot, now)
  if (restarted) {
    users.clear()
    for (const [user, counters] of next.users) addTraffic(users, user, counters.up ?? 0, counters.down ?? 0)
  }
  return {baselineOnly: false, restarted, users, next}
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

export interface CounterRules {
  /** Counters live as long as the process (Xray, V2Ray, sing-box v2ray_api): one that vanished means a restart. */
  countersOutliveUsers: boolean
}

/** The proxy's uptime says it started after the last pull. */
function startedSince(previous: Baseline, snapshot: StatsSnapshot, now: number): boolean {
  if (snapshot.uptimeSeconds === null || previous.uptimeSeconds === null) return false
  const startedBefore = previous.takenAt - previous.uptimeSeconds * 1000
  const startedNow = now - snapshot.uptimeSeconds * 1000
  return startedNow > startedBefore + uptimeMarginMs
}
