import type {StatsSnapshot} from '../proxies/proxy-api.js'

/** What sbq remembers of a node's counters after a pull. */
export interface Baseline {
  takenAt: number
  uptimeSeconds: number | null
  counters: Map<string, number>
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
  next: Map<string, number>
}

const userPrefix = 'user>>>'
const uplinkSuffix = '>>>traffic>>>uplink'
const downlinkSuffix = '>>>traffic>>>downlink'

/** `user>>>NAME>>>traffic>>>uplink|downlink` → the name and direction; string ops, as this runs per counter. */
export function parseUserCounter(name: string): {user: string; uplink: boolean} | null {
  if (!name.startsWith(userPrefix)) return null
  if (name.endsWith(uplinkSuffix)) return {user: name.slice(userPrefix.length, -uplinkSuffix.length), uplink: true}
  if (name.endsWith(downlinkSuffix)) return {user: name.slice(userPrefix.length, -downlinkSuffix.length), uplink: false}
  return null
}

/**
 * Turns a node's cumulative counters into new traffic, given what was seen last time. Counters are read without
 * reset, so nothing is lost when a write after the read fails: the next pull sees the same cumulative values.
 * The proxy restarted when its uptime says it started after the last pull, when a counter went down, or (where
 * counters outlive users) when a counter vanished: then every value is new traffic.
 */
/** `now` is the real wall clock when the snapshot was read, comparable with the proxy's uptime. */
export function counterDeltas(previous: Baseline | null, snapshot: StatsSnapshot, now: number, rules: CounterRules = {countersOutliveUsers: true}): CounterDeltas {
  const next = new Map<string, number>()
  for (const {name, value} of snapshot.counters) next.set(name, value)
  const users = new Map<string, TrafficDelta>()
  if (previous === null) return {baselineOnly: true, restarted: false, users, next}

  const restarted = proxyRestarted(previous, snapshot, next, now, rules)
  for (const [name, value] of next) {
    const counter = parseUserCounter(name)
    if (!counter || counter.user === '') continue
    const delta = restarted ? value : value - (previous.counters.get(name) ?? 0)
    if (delta <= 0) continue
    let traffic = users.get(counter.user)
    if (!traffic) {
      traffic = {up: 0, down: 0}
      users.set(counter.user, traffic)
    }
    if (counter.uplink) traffic.up += delta
    else traffic.down += delta
  }
  return {baselineOnly: false, restarted, users, next}
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

function proxyRestarted(previous: Baseline, snapshot: StatsSnapshot, next: Map<string, number>, now: number, rules: CounterRules): boolean {
  if (snapshot.uptimeSeconds !== null && previous.uptimeSeconds !== null) {
    const startedBefore = previous.takenAt - previous.uptimeSeconds * 1000
    const startedNow = now - snapshot.uptimeSeconds * 1000
    if (startedNow > startedBefore + uptimeMarginMs) return true
  }
  for (const [name, before] of previous.counters) {
    const value = next.get(name)
    if (value === undefined ? rules.countersOutliveUsers : value < before) return true
  }
  return false
}
