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

const userCounter = /^user>>>(.+)>>>traffic>>>(uplink|downlink)$/

/**
 * Turns a node's cumulative counters into new traffic, given what was seen last time. Counters are read without
 * reset, so nothing is lost when a write after the read fails: the next pull sees the same cumulative values.
 * A counter that went down, or an uptime shorter than the time since the last pull, means the proxy restarted:
 * then every value is new traffic.
 */
/** `now` is the real wall clock when the snapshot was read, comparable with the proxy's uptime. */
export function counterDeltas(previous: Baseline | null, snapshot: StatsSnapshot, now: number): CounterDeltas {
  const next = new Map<string, number>()
  for (const {name, value} of snapshot.counters) next.set(name, value)
  const users = new Map<string, TrafficDelta>()
  if (previous === null) return {baselineOnly: true, restarted: false, users, next}

  const restarted = proxyRestarted(previous, snapshot, next, now)
  for (const [name, value] of next) {
    const match = userCounter.exec(name)
    if (!match) continue
    const delta = restarted ? value : value - (previous.counters.get(name) ?? 0)
    if (delta <= 0) continue
    const user = match[1]!
    let traffic = users.get(user)
    if (!traffic) {
      traffic = {up: 0, down: 0}
      users.set(user, traffic)
    }
    if (match[2] === 'uplink') traffic.up += delta
    else traffic.down += delta
  }
  return {baselineOnly: false, restarted, users, next}
}

/**
 * Uptime comes in whole seconds and is read a moment after `now`, so it gets a margin: a false "restarted" would bill
 * every byte twice, a missed one only undercounts a restart in the first seconds after a pull (and a counter that
 * went down still catches most of those).
 */
const uptimeMarginMs = 2000

function proxyRestarted(previous: Baseline, snapshot: StatsSnapshot, next: Map<string, number>, now: number): boolean {
  if (snapshot.uptimeSeconds !== null && snapshot.uptimeSeconds * 1000 + uptimeMarginMs < now - previous.takenAt) return true
  for (const [name, value] of next) {
    const before = previous.counters.get(name)
    if (before !== undefined && value < before) return true
  }
  return false
}
