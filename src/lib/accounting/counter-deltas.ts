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

/**
 * Turns a node's cumulative counters into new traffic, given what was seen last time. Counters are read without
 * reset, so nothing is lost when a write after the read fails: the next pull sees the same cumulative values.
 * The proxy restarted when its uptime says it started after the last pull, when a counter went down, or (where
 * counters outlive users) when a counter vanished: then every value is new traffic. `now` is the real wall clock
 * when the snapshot was read, comparable with the proxy's uptime.
 */
export function counterDeltas(previous: Baseline | null, snapshot: StatsSnapshot, now: number, rules: CounterRules = {countersOutliveUsers: true}): CounterDeltas {
  const next = new Map<string, number>()
  const users = new Map<string, TrafficDelta>()
  if (previous === null) {
    for (const {name, value} of snapshot.counters) next.set(name, value)
    return {baselineOnly: true, restarted: false, users, next}
  }
  // One pass over 200k counters at 100k users: remember each, bill it against its last value, and notice on the way
  // whether any went down or vanished (then the proxy restarted and every value is billed in full instead).
  const before = previous.counters
  let seenBefore = 0
  let wentDown = false
  const bill = (name: string, value: number): void => {
    const last = before.get(name)
    if (last !== undefined) {
      seenBefore++
      if (value < last) wentDown = true
    }
    addTraffic(users, name, value - (last ?? 0))
  }
  for (const {name, value} of snapshot.counters) {
    next.set(name, value)
    bill(name, value)
  }
  if (next.size !== snapshot.counters.length) {
    // A name sent twice counts once, at its last value (as the proxy's own map holds it): bill again from `next`.
    users.clear()
    seenBefore = 0
    wentDown = false
    for (const [name, value] of next) bill(name, value)
  }
  const vanished = rules.countersOutliveUsers && seenBefore < before.size
  const restarted = wentDown || vanished || startedSince(previous, snapshot, now)
  if (restarted) {
    users.clear()
    for (const [name, value] of next) addTraffic(users, name, value)
  }
  return {baselineOnly: false, restarted, users, next}
}

/** The user of a `user>>>NAME>>>traffic>>>uplink|downlink` counter; undefined for any other counter. */
export function counterUser(counterName: string): string | undefined {
  if (!counterName.startsWith(userPrefix)) return undefined
  const suffix = counterName.endsWith(uplinkSuffix) ? uplinkSuffix : counterName.endsWith(downlinkSuffix) ? downlinkSuffix : undefined
  if (suffix === undefined) return undefined
  const user = counterName.slice(userPrefix.length, -suffix.length)
  return user === '' ? undefined : user
}

/** Adds a counter's new bytes to its user, if it is a user counter and the bytes are new. */
function addTraffic(users: Map<string, TrafficDelta>, counterName: string, delta: number): void {
  if (delta <= 0) return
  const user = counterUser(counterName)
  if (user === undefined) return
  const uplink = counterName.endsWith(uplinkSuffix)
  let traffic = users.get(user)
  if (!traffic) {
    traffic = {up: 0, down: 0}
    users.set(user, traffic)
  }
  if (uplink) traffic.up += delta
  else traffic.down += delta
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
