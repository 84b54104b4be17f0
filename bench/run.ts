/**
 * `npm run bench`: times the real bin/sbq, as whole processes, against databases of BENCH_SIZES users whose one node
 * is a stub V2Ray API in its own process, on SQLite and PostgreSQL (BENCH_DIALECTS; PostgreSQL on a throw-away
 * cluster, or BENCH_DB's server), the two dialects' runs alternating so that both meet the same machine. Prints a
 * side-by-side table and writes bench/results.json.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {repoRoot, sbqBin} from '../test/support/paths.js'
import {failedResult, measuredResult, type ScenarioResult, type SizeResult} from './lib/bench-results.js'
import {openDialects, type BenchDialect} from './lib/bench-dialects.js'
import {benchSettings, sbqEnvironment, type BenchSettings} from './lib/bench-settings.js'
import {onExit} from './lib/exit-cleanup.js'
import {renderResults} from './lib/results-table.js'
import {scenarios, type BenchTarget, type Scenario} from './lib/scenarios.js'
import {seedDatabase} from './lib/seed-database.js'
import {startStub, type StubProcess} from './lib/stub-process.js'
import {rssMeasurable, timedRun, type RunMeasurement} from './lib/timed-run.js'

/** Bytes the stub adds to every user counter per QueryStats, so each timed pull bills every user. */
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
  const results: ScenarioResult[] = scenarios.map((scenario) => ({
    name: scenario.name,
    args: scenario.args,
    targetSeconds: scenario.targetSeconds ?? null,
    targets: scenario.targets ?? {},
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
    warmups: settings.warmups,
    runs: settings.runs,
    rssMeasured: rssMeasurable,
    dialects: names,
    postgres: opened.postgres === null ? null : {server: opened.postgres.origin, settings: opened.postgres.settings},
    environment: settings.inheritEnv ? 'inherited' : 'cron',
    scenarios: results,
  }
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(`\nwrote ${file}\n`)
  return results.some((scenario) => scenario.sizes.some((result) => result.verdict === 'FAIL')) ? 1 : 0
}

/** One dialect's database and node at one size, ready for the scenarios. */
interface Prepared {
  dialect: BenchDialect
  target: BenchTarget
}

/**
 * One size from scratch on every dialect: a fresh database and stub each, a baseline pull, then every scenario, the
 * dialects taking turns run by run. Returns each scenario's results, one per dialect.
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
    const results: SizeResult[][] = []
    for (const scenario of scenarios) results.push([...(await benchScenario(scenario, prepared, settings)), ...failed])
    return results
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup()
  }
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
  const target: BenchTarget = {size, dialect: dialect.name, db, dir, stubAddress: address}
  progress(`${label}: stub on ${address}, database seeded (${elapsed(phase)})`)

  phase = performance.now()
  // The first pull only records the counters as the baseline; every later one bills all N users.
  const baseline = await sbq(target, ['stats', 'pull', '--json'], settings, {keepStdout: true})
  const node = (JSON.parse(baseline.stdout) as {nodes: Array<{ok: boolean; baseline: boolean; error: string | null}>})
    .nodes[0]
  if (node === undefined || !node.ok || !node.baseline)
    throw new Error(`baseline pull did not take a baseline: ${baseline.stdout.slice(0, 500)}`)
  progress(`${label}: baseline pull (${elapsed(phase)})`)
  return target
}

/** Warm-ups on each dialect, then timed runs taking turns, each dialect stopping at its count or its time budget. */
async function benchScenario(scenario: Scenario, prepared: Prepared[], settings: BenchSettings): Promise<SizeResult[]> {
  const run = async (target: BenchTarget): Promise<RunMeasurement> => {
    await scenario.setup?.(target)
    return sbq(target, scenario.args, settings, {okExitCodes: scenario.okExitCodes})
  }
  const states = prepared.map(({dialect, target}) => ({
    dialect,
    target,
    runs: [] as RunMeasurement[],
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
    const result = measuredResult(scenario, state.target.size, state.dialect.name, state.runs)
    const cut =
      state.runs.length < settings.runs
        ? ` (only ${state.runs.length} timed runs: over the ${settings.scenarioBudgetMs / 1000} s budget)`
        : ''
    progress(`${label}: median ${(result.medianMs! / 1000).toFixed(3)} s${cut}`)
    return result
  })
}

function sbq(
  target: BenchTarget,
  args: string[],
  settings: BenchSettings,
  options: {keepStdout?: boolean; okExitCodes?: number[]} = {},
): Promise<RunMeasurement> {
  return timedRun({
    command: sbqBin,
    args,
    env: {...sbqEnvironment(settings), NO_COLOR: '1', SBQ_DB: target.db},
    scratchDir: target.dir,
    timeoutMs: settings.runTimeoutMs,
    okExitCodes: options.okExitCodes ?? [0],
    keepStdout: options.keepStdout,
  })
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
