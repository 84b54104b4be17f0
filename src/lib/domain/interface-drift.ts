/**
 * Drift: a node's counted traffic against what the host's network interface carried. A proxy relays each byte twice
 * over its host's interface (in from the client and out to the target, and the answer back the same way), so on a
 * host that does nothing else the interface carries about twice what the proxy counts. sbq therefore compares the
 * counted bytes with HALF the interface's bytes: 100% is a pure proxy host counting everything, and far below it
 * means bytes the proxy never counted (Xray's VLESS-Vision splice copies in the kernel, past its counters) or
 * traffic sbq does not manage (other services on the host, users outside sbq).
 */

/** What a node counting far less than its interface carried usually means; said with every drift warning and alert. */
export const driftHint =
  "the proxy may not count some traffic (Xray's VLESS-Vision splice is known to), or the interface carries traffic sbq does not manage (other services, users outside sbq)"

/** An interface's cumulative byte counters, as the kernel keeps them (received and sent). */
export interface InterfaceCounters {
  rx: number
  tx: number
}

/** When a day is judged: the threshold in percent of half the interface bytes (null: drift is off), and the volume below which the day is too small to judge. */
export interface DriftRule {
  thresholdPercent: number | null
  minInterfaceBytes: number
}

export interface DriftJudgement {
  /** Counted bytes in percent of half the interface bytes, rounded down; null when the interface carried nothing. */
  ratioPercent: number | null
  /** Drift is on and the interface carried at least the minimum volume. */
  judged: boolean
  drifting: boolean
}

/**
 * Bytes the interface carried since the last reading, both directions. A counter that went down was reset (a reboot,
 * a driver reload, or a 32-bit counter that wrapped): it counted from 0 again, so its value now is what it carried
 * since. That can only under-state the interface, never raise a false alarm. No last reading: nothing to compare yet.
 */
export function interfaceBytesSince(previous: InterfaceCounters | null, next: InterfaceCounters): number {
  if (previous === null) return 0
  return since(previous.rx, next.rx) + since(previous.tx, next.tx)
}

function since(before: number, now: number): number {
  return now >= before ? now - before : now
}

export interface DriftWindow {
  interfaceBytes: number
  countedBytes: number
}

/** Counted bytes in percent of half the interface bytes, rounded down; null when the interface carried nothing. */
export function driftRatioPercent({interfaceBytes, countedBytes}: DriftWindow): number | null {
  return interfaceBytes === 0 ? null : Number((BigInt(countedBytes) * 200n) / BigInt(interfaceBytes))
}

/** Judges one window (a day so far) of counted and interface bytes; exact for any byte counts. */
export function judgeDrift(window: DriftWindow, rule: DriftRule): DriftJudgement {
  const {interfaceBytes, countedBytes} = window
  const ratioPercent = driftRatioPercent(window)
  const judged = rule.thresholdPercent !== null && interfaceBytes > 0 && interfaceBytes >= rule.minInterfaceBytes
  // counted < threshold% of interface/2, without rounding: 200 * counted < threshold * interface.
  const drifting = judged && BigInt(countedBytes) * 200n < BigInt(rule.thresholdPercent!) * BigInt(interfaceBytes)
  return {ratioPercent, judged, drifting}
}
