import type {DialectName} from './bench-dialects.js'
import type {Scenario} from './scenarios.js'
import {summarise} from './statistics.js'
import {floorMs, judge, overallVerdict, secondsAt, type FloorParts, type Judgement, type Verdict} from './targets.js'
import {RunTimedOut} from './timed-run.js'

export type {Verdict} from './targets.js'

/** One scenario at one size: every timed run, and what they add up to. */
export interface SizeResult {
  size: number
  dialect: DialectName
  runsMs: number[]
  rssKb: Array<number | null>
  medianMs: number | null
  minMs: number | null
  maxMs: number | null
  /** A floor part's median as a long-running process pays it (its later repetitions), where it reports one. */
  warmMedianMs: number | null
  /** Highest peak RSS over the timed runs. */
  rssMb: number | null
  stdoutBytes: number | null
  /** MISS when any bound in `judged` is missed, PASS when all are met, FAIL when the runs failed; null without bounds. */
  verdict: Verdict
  /** The seconds bound this size was held to, if any. */
  targetSeconds: number | null
  /** The floor measured beside it in the same run (ms), null where the scenario has none. */
  floorMs: number | null
  /** The median over the floor. */
  floorRatio: number | null
  /** Each bound this size was held to and how it did. */
  judged: Judgement[]
  error: string | null
  /** The run was killed at BENCH_RUN_TIMEOUT_S. */
  timedOut: boolean
}

export interface ScenarioResult {
  name: string
  args: string[]
  kind: 'sbq' | 'floor' | 'in-process'
  /** The seconds bound for every size up to 100k, and per size (kept from the bench's first results format). */
  targetSeconds: number | null
  targets: Record<number, number>
  sizes: SizeResult[]
}

/** A scenario's times, before anything is judged: a size's bounds need the floors and other scenarios measured too. */
export function measuredResult(
  size: number,
  dialect: DialectName,
  runs: Array<{wallMs: number; rssKb: number | null; stdoutBytes: number; warmMs?: number}>,
): SizeResult {
  const warm = runs.flatMap((run) => (run.warmMs === undefined ? [] : [run.warmMs]))
  const runsMs = runs.map((run) => round(run.wallMs))
  const {median, min, max} = summarise(runsMs)
  const rssKb = runs.map((run) => run.rssKb)
  const known = rssKb.filter((kb): kb is number => kb !== null)
  return {
    size,
    dialect,
    runsMs,
    rssKb,
    medianMs: round(median),
    minMs: min,
    maxMs: max,
    warmMedianMs: warm.length === 0 ? null : round(summarise(warm).median),
    rssMb: known.length === 0 ? null : round(Math.max(...known) / 1024),
    stdoutBytes: runs[runs.length - 1]?.stdoutBytes ?? null,
    verdict: null,
    targetSeconds: null,
    floorMs: null,
    floorRatio: null,
    judged: [],
    error: null,
    timedOut: false,
  }
}

/**
 * One size's floor parts on one dialect, from the floor scenarios' medians (a part that failed stays null, and so
 * does every floor that needs it).
 */
export function floorPartsOf(floors: ReadonlyArray<{scenario: Scenario; result: SizeResult | undefined}>): FloorParts {
  const parts: FloorParts = {startMs: null, pullMs: null, warmPullMs: null, sqlMs: {}, warmSqlMs: {}}
  for (const {scenario, result} of floors) {
    const ms = result?.medianMs ?? null
    const warmMs = result?.warmMedianMs ?? null
    if (scenario.floorPart === 'start') {
      parts.startMs = ms
    } else if (scenario.floorPart === 'pull') {
      parts.pullMs = ms
      parts.warmPullMs = warmMs
    } else if (scenario.floorPart === 'sql') {
      parts.sqlMs[scenario.activeEvery ?? 1] = ms
      parts.warmSqlMs[scenario.activeEvery ?? 1] = warmMs
    }
  }
  return parts
}

/** Fills in a measured result's floor and verdicts; `referenceMs` is the median of the scenario its bound names. */
export function judgedResult(
  scenario: Scenario,
  result: SizeResult,
  parts: FloorParts,
  referenceMs: number | null,
): SizeResult {
  if (result.medianMs === null) return result
  const floor = scenario.floor === undefined ? null : floorMs(parts, scenario.floor, scenario.activeEvery ?? 1)
  const judged = judge(scenario.bounds ?? {}, result.size, {
    medianMs: result.medianMs,
    rssMb: result.rssMb,
    floorMs: floor,
    referenceMs,
  })
  return {
    ...result,
    floorMs: floor === null ? null : round(floor),
    floorRatio: floor === null || floor <= 0 ? null : Math.round((result.medianMs / floor) * 100) / 100,
    judged,
    verdict: overallVerdict(judged),
    targetSeconds: secondsAt(scenario.bounds ?? {}, result.size),
  }
}

export function failedResult(size: number, dialect: DialectName, error: unknown): SizeResult {
  const message = error instanceof Error ? error.message : String(error)
  return {
    size,
    dialect,
    runsMs: [],
    rssKb: [],
    medianMs: null,
    minMs: null,
    maxMs: null,
    warmMedianMs: null,
    rssMb: null,
    stdoutBytes: null,
    verdict: 'FAIL',
    targetSeconds: null,
    floorMs: null,
    floorRatio: null,
    judged: [],
    error: message,
    timedOut: error instanceof RunTimedOut,
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10
}
