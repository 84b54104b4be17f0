import type {Context} from '../context.js'
import {
  addInterfaceDay,
  forgetInterfaceReading,
  markInterfaceDayWarned,
  readInterfaceReading,
  writeInterfaceReading,
} from '../db/interface-drift-repository.js'
import type {Db} from '../db/open-database.js'
import type {NodeRow} from '../db/schema.js'
import {interfaceBytesSince, judgeDrift, type DriftRule, type InterfaceCounters} from '../domain/interface-drift.js'
import {fromLocal, localDay} from '../domain/zoned-time.js'
import {SbqError} from '../errors.js'
import {readInterfaceCounters} from '../nodes/host-interface.js'
import {settingValue} from '../settings/settings.js'

/** A node's host interface as read next to its counters: the counters, or why they could not be read. */
export type InterfaceSample = {name: string; counters: InterfaceCounters} | {name: string; error: string}

/** Where a node's counted traffic stands against its host interface today. */
export interface NodeDrift {
  interface: string
  /** Why the interface could not be read at this pull (the pull itself went on); null when it was read. */
  error: string | null
  /** The local day the figures are of, and when it started. */
  day: string
  dayStart: number
  /** Bytes the interface carried today between pulls, both directions. */
  interfaceBytes: number
  /** Bytes the node counted over the same pulls. */
  countedBytes: number
  /** countedBytes in percent of half interfaceBytes, rounded down; null while the interface carried nothing. */
  ratioPercent: number | null
  /** The `drift-threshold` in force; null when it is off. */
  thresholdPercent: number | null
  /** On, and the interface carried at least `drift-min-bytes` today. */
  judged: boolean
  drifting: boolean
  /** This pull is the first to find the day drifting: `check` warns once a day, not on every run. */
  firstToday: boolean
}

/**
 * Reads the node's host interface right after its counters, so both cover the same interval. A missing interface is
 * this pull's warning, never its failure: the traffic is still billed.
 */
export function sampleInterface(node: Pick<NodeRow, 'host_interface'>): InterfaceSample | null {
  const name = node.host_interface
  if (name === null) return null
  try {
    return {name, counters: readInterfaceCounters(name)}
  } catch (error) {
    if (error instanceof SbqError) return {name, error: error.message}
    throw error
  }
}

/**
 * Inside the pull's transaction (the node is locked): adds what the interface carried since the last reading and
 * what the node counted to today's figures, and judges the day. The interface only counts over an interval the node's
 * counters cover too: not at the node's first pull (its counters became the baseline), not from a first reading, and
 * after an unreadable one the next reading starts afresh.
 */
export async function recordInterfaceDrift(
  trx: Db,
  nodeId: number,
  sample: InterfaceSample | null,
  counted: {up: number; down: number; baselineOnly: boolean},
  context: Context,
): Promise<NodeDrift | null> {
  if (sample === null) return null
  const day = localDay(context.now, context.timeZone)
  let added = {interfaceBytes: 0, countedBytes: 0}
  if ('counters' in sample) {
    const previous = await readInterfaceReading(trx, nodeId)
    if (previous !== null && !counted.baselineOnly)
      added = {interfaceBytes: interfaceBytesSince(previous, sample.counters), countedBytes: counted.up + counted.down}
    await writeInterfaceReading(trx, nodeId, sample.counters, context.now)
  } else {
    await forgetInterfaceReading(trx, nodeId)
  }
  const today = await addInterfaceDay(trx, nodeId, day, added)
  const rule = await readDriftRule(trx)
  const window = {interfaceBytes: today.interface_bytes, countedBytes: today.counted_bytes}
  const judgement = judgeDrift(window, rule)
  const firstToday = judgement.drifting && (await markInterfaceDayWarned(trx, nodeId, day, context.now))
  return {
    interface: sample.name,
    error: 'error' in sample ? sample.error : null,
    day,
    dayStart: startOfDay(day, context.timeZone),
    ...window,
    ratioPercent: judgement.ratioPercent,
    thresholdPercent: rule.thresholdPercent,
    judged: judgement.judged,
    drifting: judgement.drifting,
    firstToday,
  }
}

/** The drift settings in force; they are validated when stored, so this only parses. */
export async function readDriftRule(db: Db): Promise<DriftRule> {
  const threshold = await settingValue(db, 'drift-threshold')
  return {
    thresholdPercent: threshold === 'off' ? null : Number(threshold),
    minInterfaceBytes: Number(await settingValue(db, 'drift-min-bytes')),
  }
}

function startOfDay(day: string, timeZone: string): number {
  return fromLocal(
    {year: Number(day.slice(0, 4)), month: Number(day.slice(5, 7)), day: Number(day.slice(8, 10))},
    timeZone,
  )
}
