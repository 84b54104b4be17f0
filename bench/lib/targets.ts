/**
 * What `npm run bench` holds each figure to, and the floor it measures beside it: pure arithmetic over medians, so the
 * bench's verdicts can be tested without running anything.
 */

/** Users at which a bound without a size (`seconds`) is promised; smaller sizes are held to the same bound. */
export const targetSize = 100_000

/** PostgreSQL's median may be at most this multiple of SQLite's, in every scenario. */
export const postgresWithin = 1.5

export type Verdict = 'PASS' | 'MISS' | 'FAIL' | null

/** The bounds of one scenario; each applies only where it names the size (or, for `seconds`, up to targetSize). */
export interface Targets {
  /** Median wall time at every size up to targetSize, in seconds. */
  seconds?: number
  /** Median wall time at these sizes, in seconds (over `seconds` where both apply). */
  secondsAt?: Record<number, number>
  /** Median within this multiple of the floor measured in the same run, at these sizes. */
  floorMultipleAt?: Record<number, number>
  /** Peak RSS below this many MB, at these sizes. */
  rssMbAt?: Record<number, number>
  /** Median within `multiple` of another scenario's median at the same size and dialect, at every size. */
  relativeTo?: {scenario: string; multiple: number}
}

/** What a run measured that a target can be judged against. */
export interface Measured {
  medianMs: number
  rssMb: number | null
  /** The floor in the same run, null where the scenario has none. */
  floorMs: number | null
  /** The median of `relativeTo`'s scenario, null when it was not measured. */
  referenceMs: number | null
}

export interface Judgement {
  /** The bound as printed, e.g. "≤ 2× floor". */
  target: string
  /** MISS also when what the bound needs (the floor, RSS, the other scenario) was not measured. */
  verdict: 'PASS' | 'MISS'
}

/**
 * The floor: the parts a command cannot do without, each measured alone in the same run; a pull and the SQL both
 * as a fresh process's first (cold) and as a long-running process's later ones (warm).
 */
export interface FloorParts {
  /** `node -e 0`: a process starting and exiting. */
  startMs: number | null
  /** Connecting, one QueryStats and decoding its reply. */
  pullMs: number | null
  warmPullMs: number | null
  /** The ledger's set-based writes alone, by which users were active (`activeEvery` → ms). */
  sqlMs: Record<number, number | null>
  warmSqlMs: Record<number, number | null>
}

/**
 * How a scenario meets its floor: a whole process pays Node's start and a cold pull and write; serve's in-process
 * check pays neither the start nor the cold.
 */
export type FloorKind = 'process' | 'in-process'

/** The floor of a scenario whose users active are every `activeEvery`-th; null when a part was not measured. */
export function floorMs(parts: FloorParts, kind: FloorKind, activeEvery: number): number | null {
  const [start, pull, sql] =
    kind === 'process'
      ? [parts.startMs, parts.pullMs, parts.sqlMs[activeEvery] ?? null]
      : [0, parts.warmPullMs, parts.warmSqlMs[activeEvery] ?? null]
  if (start === null || pull === null || sql === null) return null
  return start + pull + sql
}

export function judge(targets: Targets, size: number, measured: Measured): Judgement[] {
  const judged: Judgement[] = []
  const within = (target: string, ok: boolean): void => {
    judged.push({target, verdict: ok ? 'PASS' : 'MISS'})
  }
  const seconds = secondsAt(targets, size)
  if (seconds !== null) within(`≤ ${seconds} s`, measured.medianMs <= seconds * 1000)
  const multiple = targets.floorMultipleAt?.[size]
  if (multiple !== undefined)
    within(`≤ ${multiple}× floor`, measured.floorMs !== null && measured.medianMs <= measured.floorMs * multiple)
  const rss = targets.rssMbAt?.[size]
  if (rss !== undefined) within(`RSS < ${rss} MB`, measured.rssMb !== null && measured.rssMb < rss)
  const relative = targets.relativeTo
  if (relative !== undefined)
    within(
      `≤ ${relative.multiple}× ${relative.scenario}`,
      measured.referenceMs !== null && measured.medianMs <= measured.referenceMs * relative.multiple,
    )
  return judged
}

/** One verdict for the JSON's `verdict`: MISS when any bound is missed, PASS when all are met, null without bounds. */
export function overallVerdict(judged: readonly Judgement[]): Verdict {
  if (judged.length === 0) return null
  return judged.some((judgement) => judgement.verdict === 'MISS') ? 'MISS' : 'PASS'
}

/** The seconds bound at this size (the JSON's `targetSeconds`), null where none applies. */
export function secondsAt(targets: Targets, size: number): number | null {
  return targets.secondsAt?.[size] ?? (targets.seconds !== undefined && size <= targetSize ? targets.seconds : null)
}

/** PostgreSQL's median over SQLite's, and whether it is within postgresWithin. */
export function dialectRatio(
  sqliteMs: number | null,
  postgresMs: number | null,
): {ratio: number; verdict: 'PASS' | 'MISS'} | null {
  if (sqliteMs === null || postgresMs === null || sqliteMs <= 0) return null
  const ratio = postgresMs / sqliteMs
  return {ratio, verdict: ratio <= postgresWithin ? 'PASS' : 'MISS'}
}
