/**
 * `npm run bench`: times the real bin/sbq, as whole processes, against databases of BENCH_SIZES users whose one node
 * is a stub V2Ray API in its own process, on SQLite and PostgreSQL (BENCH_DIALECTS; PostgreSQL on a throw-away
 * cluster, or BENCH_DB's server), the two dialects' runs alternating so that both meet the same machine; and, in the
 * same run, the floor each figure is held against (Node's start, a bare pull of the same reply, the ledger's writes as
 * set-based SQL alone) and serve's check in one process. Prints a side-by-side table and writes bench/results.json.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {repoRoot, sbqBin} from '../test/support/paths.js'
import {
  failedResult,
  floorPartsOf,
  judgedResult,
  measuredResult,
  type ScenarioResult,
  type SizeResult,
} from './lib/bench-results.js'
import {openDatabase} from '../src/lib/db/open-database.js'
import {localDay} from '../src/lib/domain/zoned-time.js'
import {installTimeZone} from '../src/lib/settings/settings.js'
import {openDialects, type BenchDialect} from './lib/bench-dialects.js'
import {benchSettings, sbqEnvironment, type BenchSettings} from './lib/bench-settings.js'
import {onExit} from './lib/exit-cleanup.js'
import {renderResults} from './lib/results-table.js'
import {floorScenarios, scenarios, type BenchTarget, type Invocation, type Scenario} from './lib/scenarios.js'
import {seedDatabase} from './lib/seed-database.js'
import {startStub, type StubProcess} from './lib/stub-process.js'
import {dialectRatio, postgresWithin} from './lib/targets.js'
import {rssMeasurable, timedRun, type RunMeasurement} from './lib/timed-run.js'

/** Bytes the stub adds to each growing user counter per QueryStats, so each timed pull bills those users. */
const growBytes = 1000
const stubListenTimeoutMs = 60_000

async function main(): Promise<number> {
  const settings = benchSettings()
  const deadline = setTimeout(() => {
    process.stderr.write(`bench: gave up after ${settings.totalTimeoutMs / 1000} s (BENCH_TIMEOUT_S)\n`)
    process.exit(1)
  }, settings.totalTimeoutMs)
  deadline.unref()

  const startedAt = new Date()
  const load = loadavg()
  progress(
    `sizes ${settings.sizes.join(', ')}; ${settings.warmups} warm-up + ${settings.runs} timed runs each; load average ${load.map((value) => value.toFixed(2)).join(' ')}`,
  )
  if (!rssMeasurable) progress('no /usr/bin/time (apt package "time"): peak RSS is not measured')
  progress(
    settings.inheritEnv
      ? "sbq runs with this shell's whole environment (BENCH_INHERIT_ENV=1)"
      : "sbq runs with the environment a cron job would have (BENCH_INHERIT_ENV=1 passes this shell's whole environment)",
  )

  const opened = await openDialects(settings.dialects, progress)
  const dialects = opened.dialects
  const all = [...floorScenarios, ...scenarios]
  const results: ScenarioResult[] = all.map((scenario) => ({
    name: scenario.name,
    args: scenario.args,
    kind: scenario.kind ?? 'sbq',
    targetSeconds: scenario.bounds?.seconds ?? null,
    targets: scenario.bounds?.secondsAt ?? {},
    sizes: [],
  }))
  try {
    for (const size of settings.sizes) {
      const sizeResults = await benchSize(size, dialects, settings)
      sizeResults.forEach((result, index) => results[index]!.sizes.push(...result))
    }
  } finally {
    opened.close()
  }

  const names = dialects.map((dialect) => dialect.name)
  process.stdout.write(`\n${renderResults(results, names)}`)
  const file = join(repoRoot, 'bench', 'results.json')
  const report = {
    date: startedAt.toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    loadAverageAtStart: load,
    loadAverageAtEnd: loadavg(),
    warmups: settings.warmups,
    runs: settings.runs,
    rssMeasured: rssMeasurable,
    dialects: names,
    postgres: opened.postgres === null ? null : {server: opened.postgres.origin, settings: opened.postgres.settings},
    environment: settings.inheritEnv ? 'inherited' : 'cron',
    postgresWithin,
    dialectRatios: dialectRatios(results),
    scenarios: results,
  }
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(`\nwrote ${file}\n`)
  return results.some((scenario) => scenario.sizes.some((result) => result.verdict === 'FAIL')) ? 1 : 0
}

/** A run as timed, and for a floor part that reports it, its warm figure (bench-results.ts). */
type Measurement = RunMeasurement & {warmMs?: number}

/** One dialect's database and node at one size, ready for the scenarios. */
interface Prepared {
  dialect: BenchDialect
  target: BenchTarget
}

/**
 * One size from scratch on every dialect: a fresh database and stub each, a baseline pull, the floors, then every
 * scenario, the dialects taking turns run by run; then each result judged against its floor and bounds. Returns each
 * scenario's results (floors first), one per dialect.
 */
async function benchSize(size: number, dialects: BenchDialect[], settings: BenchSettings): Promise<SizeResult[][]> {
  const cleanups: Array<() => Promise<void>> = []
  try {
    const prepared: Prepared[] = []
    const failed: SizeResult[] = []
    for (const dialect of dialects) {
      const dir = mkdtempSync(join(tmpdir(), `sbq-bench-${dialect.name}-${size}-`))
      const removeDir = onExit(() => rmSync(dir, {recursive: true, force: true}))
      const stub = startStub({users: size, growBytes, timeoutMs: stubListenTimeoutMs})
      cleanups.push(async () => {
        await stub.stop()
        removeDir()
      })
      try {
        const database = await dialect.newDatabase(String(size), dir)
        cleanups.push(database.drop)
        prepared.push({dialect, target: await prepare(size, dialect, database.url, dir, stub, settings)})
      } catch (error) {
        progress(
          `${dialect.label}, ${size} users: setup failed: ${error instanceof Error ? error.message : String(error)}`,
        )
        failed.push(failedResult(size, dialect.name, error))
      }
    }
    const measured: SizeResult[][] = []
    for (const scenario of [...floorScenarios, ...scenarios]) {
      for (const {target} of prepared) await target.stub.activeEvery(scenario.activeEvery ?? 1)
      const results =
        scenario.kind === 'in-process'
          ? await benchInProcess(scenario, prepared, settings)
          : await benchScenario(scenario, prepared, settings)
      measured.push(results)
    }
    return judgeSize(measured).map((results) => [...results, ...failed])
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup()
  }
}

/** Each sbq result against its floor (the floor scenarios' medians at this size and dialect) and its bounds. */
function judgeSize(measured: SizeResult[][]): SizeResult[][] {
  const all = [...floorScenarios, ...scenarios]
  return measured.map((results, index) => {
    const scenario = all[index]!
    return results.map((result) => {
      const ofDialect = (name: string): SizeResult | undefined =>
        measured[all.findIndex((other) => other.name === name)]?.find((other) => other.dialect === result.dialect)
      const parts = floorPartsOf(floorScenarios.map((floor) => ({scenario: floor, result: ofDialect(floor.name)})))
      const reference = scenario.bounds?.relativeTo
      return judgedResult(
        scenario,
        result,
        parts,
        reference === undefined ? null : (ofDialect(reference.scenario)?.medianMs ?? null),
      )
    })
  })
}

async function prepare(
  size: number,
  dialect: BenchDialect,
  db: string,
  dir: string,
  stub: StubProcess,
  settings: BenchSettings,
): Promise<BenchTarget> {
  const label = `${dialect.label}, ${size} users`
  let phase = performance.now()
  const address = await stub.address
  await seedDatabase(db, {users: size, nodeApi: address, dir})
  const target: BenchTarget = {
    size,
    dialect: dialect.name,
    db,
    dir,
    stubAddress: address,
    stub,
    today: await installDay(db),
  }
  progress(`${label}: stub on ${address}, database seeded (${elapsed(phase)})`)

  phase = performance.now()
  // The first pull only records the counters as the baseline; every later one bills the users the stub grows.
  const baseline = await sbq(target, ['stats', 'pull', '--json'], settings, {keepStdout: true})
  const node = (JSON.parse(baseline.stdout) as {nodes: Array<{ok: boolean; baseline: boolean; error: string | null}>})
    .nodes[0]
  if (node === undefined || !node.ok || !node.baseline)
    throw new Error(`baseline pull did not take a baseline: ${baseline.stdout.slice(0, 500)}`)
  progress(`${label}: baseline pull (${elapsed(phase)})`)
  return target
}

/** Today in the database's install zone: the day sbq's pulls write to now. */
async function installDay(location: string): Promise<string> {
  const db = await openDatabase(location)
  try {
    return localDay(Date.now(), await installTimeZone(db))
  } finally {
    await db.destroy()
  }
}

/** Warm-ups on each dialect, then timed runs taking turns, each dialect stopping at its count or its time budget. */
async function benchScenario(scenario: Scenario, prepared: Prepared[], settings: BenchSettings): Promise<SizeResult[]> {
  const runCounts = new Map<BenchTarget, number>()
  const run = async (target: BenchTarget): Promise<Measurement> => {
    const count = runCounts.get(target) ?? 0
    runCounts.set(target, count + 1)
    const env = (await scenario.setup?.(target, count)) ?? {}
    if (scenario.invocation === undefined)
      return sbq(target, scenario.args, settings, {okExitCodes: scenario.okExitCodes, env})
    return invoke(scenario.invocation(target, settings), target, settings)
  }
  const states = prepared.map(({dialect, target}) => ({
    dialect,
    target,
    runs: [] as Measurement[],
    spentMs: 0,
    error: undefined as unknown,
  }))
  const active = (state: (typeof states)[number]): boolean =>
    state.error === undefined &&
    state.runs.length < settings.runs &&
    (state.runs.length === 0 || state.spentMs < settings.scenarioBudgetMs)
  for (const state of states) {
    try {
      for (let warmup = 0; warmup < settings.warmups; warmup++) await run(state.target)
    } catch (error) {
      state.error = error
    }
  }
  while (states.some(active)) {
    for (const state of states.filter(active)) {
      try {
        const measurement = await run(state.target)
        state.runs.push(measurement)
        state.spentMs += measurement.wallMs
      } catch (error) {
        state.error = error
      }
    }
  }
  return states.map((state) => {
    const label = `${state.dialect.label}, ${state.target.size} users: ${scenario.name}`
    if (state.error !== undefined) {
      progress(`${label}: ${state.error instanceof Error ? state.error.message : String(state.error)}`)
      return failedResult(state.target.size, state.dialect.name, state.error)
    }
    const result = measuredResult(state.target.size, state.dialect.name, state.runs)
    const cut =
      state.runs.length < settings.runs
        ? ` (only ${state.runs.length} timed runs: over the ${settings.scenarioBudgetMs / 1000} s budget)`
        : ''
    progress(`${label}: median ${(result.medianMs! / 1000).toFixed(3)} s${cut}`)
    return result
  })
}

/**
 * serve's check: one process per dialect, the dialects one after the other, running the warm-ups and timed checks
 * back to back as serve's loop would; its peak RSS is the process's over all of them.
 */
async function benchInProcess(
  scenario: Scenario,
  prepared: Prepared[],
  settings: BenchSettings,
): Promise<SizeResult[]> {
  const results: SizeResult[] = []
  for (const {dialect, target} of prepared) {
    const label = `${dialect.label}, ${target.size} users: ${scenario.name}`
    try {
      if (scenario.invocation === undefined) throw new Error('an in-process scenario needs its invocation')
      const invocation = scenario.invocation(target, settings)
      const process_ = await timedRun({
        command: invocation.command,
        args: invocation.args,
        env: {...sbqEnvironment(settings), NO_COLOR: '1'},
        scratchDir: target.dir,
        timeoutMs: settings.runTimeoutMs * (settings.warmups + settings.runs),
        okExitCodes: [0],
        keepStdout: true,
      })
      const {runsMs} = JSON.parse(process_.stdout) as {runsMs: number[]}
      const result = measuredResult(
        target.size,
        dialect.name,
        runsMs.map((wallMs) => ({wallMs, rssKb: process_.rssKb, stdoutBytes: process_.stdoutBytes})),
      )
      progress(`${label}: median ${(result.medianMs! / 1000).toFixed(3)} s`)
      results.push(result)
    } catch (error) {
      progress(`${label}: ${error instanceof Error ? error.message : String(error)}`)
      results.push(failedResult(target.size, dialect.name, error))
    }
  }
  return results
}

/** A floor's command; when it reports its own time (Node's start left out), that is the run's figure. */
async function invoke(invocation: Invocation, target: BenchTarget, settings: BenchSettings): Promise<Measurement> {
  const measurement = await timedRun({
    command: invocation.command,
    args: invocation.args,
    env: sbqEnvironment(settings),
    scratchDir: target.dir,
    timeoutMs: settings.runTimeoutMs,
    okExitCodes: [0],
    keepStdout: invocation.reportsOwnTime,
  })
  if (!invocation.reportsOwnTime) return measurement
  const {ms, warmMs} = JSON.parse(measurement.stdout) as {ms: number; warmMs?: number}
  return {...measurement, wallMs: ms, warmMs}
}

function sbq(
  target: BenchTarget,
  args: string[],
  settings: BenchSettings,
  options: {keepStdout?: boolean; okExitCodes?: number[]; env?: NodeJS.ProcessEnv} = {},
): Promise<RunMeasurement> {
  return timedRun({
    command: sbqBin,
    args,
    env: {...sbqEnvironment(settings), NO_COLOR: '1', SBQ_DB: target.db, ...options.env},
    scratchDir: target.dir,
    timeoutMs: settings.runTimeoutMs,
    okExitCodes: options.okExitCodes ?? [0],
    keepStdout: options.keepStdout,
  })
}

/** PostgreSQL over SQLite per sbq scenario and size, with the verdict against postgresWithin. */
function dialectRatios(results: readonly ScenarioResult[]) {
  return results
    .filter((scenario) => scenario.kind !== 'floor')
    .flatMap((scenario) =>
      [...new Set(scenario.sizes.map((result) => result.size))].flatMap((size) => {
        const of = (dialect: string) =>
          scenario.sizes.find((result) => result.size === size && result.dialect === dialect)?.medianMs ?? null
        const ratio = dialectRatio(of('sqlite'), of('postgres'))
        return ratio === null ? [] : [{scenario: scenario.name, size, ...ratio}]
      }),
    )
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`)
}

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(2)} s`
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
