import type {DialectName} from './bench-dialects.js'
import type {Scenario} from './scenarios.js'
import {targetSize} from './scenarios.js'
import {summarise} from './statistics.js'
import {RunTimedOut, type RunMeasurement} from './timed-run.js'

export type Verdict = 'PASS' | 'MISS' | 'FAIL' | null

/** One scenario at one size: every timed run, and what they add up to. */
export interface SizeResult {
  size: number
  dialect: DialectName
  runsMs: number[]
  rssKb: Array<number | null>
  medianMs: number | null
  minMs: number | null
  maxMs: number | null
  /** Highest peak RSS over the timed runs. */
  rssMb: number | null
  stdoutBytes: number | null
  /** Against the scenario's target, which binds every size up to the target's; null where none applies. */
  verdict: Verdict
  /** The bound this size was held to, in seconds. */
  targetSeconds: number | null
  error: string | null
  /** The run was killed at BENCH_RUN_TIMEOUT_S. */
  timedOut: boolean
}

export interface ScenarioResult {
  name: string
  args: string[]
  targetSeconds: number | null
  targets: Record<number, number>
  sizes: SizeResult[]
}

export function measuredResult(
  scenario: Scenario,
  size: number,
  dialect: DialectName,
  runs: RunMeasurement[],
): SizeResult {
  const runsMs = runs.map((run) => round(run.wallMs))
  const {median, min, max} = summarise(runsMs)
  const rssKb = runs.map((run) => run.rssKb)
  const known = rssKb.filter((kb): kb is number => kb !== null)
  const seconds = targetFor(scenario, size)
  const bound = seconds === null ? null : seconds * 1000
  return {
    size,
    dialect,
    runsMs,
    rssKb,
    medianMs: round(median),
    minMs: min,
    maxMs: max,
    rssMb: known.length === 0 ? null : round(Math.max(...known) / 1024),
    stdoutBytes: runs[runs.length - 1]?.stdoutBytes ?? null,
    verdict: bound === null ? null : median <= bound ? 'PASS' : 'MISS',
    targetSeconds: seconds,
    error: null,
    timedOut: false,
  }
}

/** The bound at this size: a size-specific one, else the 100k target for every size up to 100k. */
export function targetFor(scenario: Pick<Scenario, 'targetSeconds' | 'targets'>, size: number): number | null {
  return (
    scenario.targets?.[size] ??
    (scenario.targetSeconds !== undefined && size <= targetSize ? scenario.targetSeconds : null)
  )
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
    rssMb: null,
    stdoutBytes: null,
    verdict: 'FAIL',
    targetSeconds: null,
    error: message,
    timedOut: error instanceof RunTimedOut,
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10
}
