/**
 * `npm run bench`: times the real bin/sbq, as whole processes, against databases of BENCH_SIZES users whose one node
 * is a stub V2Ray API in its own process. Prints a table and writes bench/results.json.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {repoRoot, sbqBin} from '../test/support/paths.js'
import {failedResult, measuredResult, type ScenarioResult, type SizeResult} from './lib/bench-results.js'
import {benchSettings, sbqEnvironment, type BenchSettings} from './lib/bench-settings.js'
import {onExit} from './lib/exit-cleanup.js'
import {renderResults} from './lib/results-table.js'
import {scenarios, type BenchTarget, type Scenario} from './lib/scenarios.js'
import {seedDatabase} from './lib/seed-database.js'
import {startStub} from './lib/stub-process.js'
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

  const results: ScenarioResult[] = scenarios.map((scenario) => ({
    name: scenario.name,
    args: scenario.args,
    targetSeconds: scenario.targetSeconds ?? null,
    targets: scenario.targets ?? {},
    sizes: [],
  }))
  for (const size of settings.sizes) {
    const sizeResults = await benchSize(size, settings)
    sizeResults.forEach((result, index) => results[index]!.sizes.push(result))
  }

  process.stdout.write(`\n${renderResults(results)}`)
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
    environment: settings.inheritEnv ? 'inherited' : 'cron',
    scenarios: results,
  }
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(`\nwrote ${file}\n`)
  return results.some((scenario) => scenario.sizes.some((result) => result.verdict === 'FAIL')) ? 1 : 0
}

/** One size from scratch: a fresh database and stub, a baseline pull, then every scenario. Returns one result each. */
async function benchSize(size: number, settings: BenchSettings): Promise<SizeResult[]> {
  const dir = mkdtempSync(join(tmpdir(), `sbq-bench-${size}-`))
  const removeDir = onExit(() => rmSync(dir, {recursive: true, force: true}))
  const stub = startStub({users: size, growBytes, timeoutMs: stubListenTimeoutMs})
  try {
    let target: BenchTarget
    try {
      target = await prepare(size, dir, stub.address, settings)
    } catch (error) {
      progress(`${size} users: setup failed: ${error instanceof Error ? error.message : String(error)}`)
      return scenarios.map(() => failedResult(size, error))
    }
    const results: SizeResult[] = []
    for (const scenario of scenarios) results.push(await benchScenario(scenario, target, settings))
    return results
  } finally {
    await stub.stop()
    removeDir()
  }
}

async function prepare(
  size: number,
  dir: string,
  stubAddress: Promise<string>,
  settings: BenchSettings,
): Promise<BenchTarget> {
  let phase = performance.now()
  const address = await stubAddress
  const dbPath = join(dir, 'sbq.db')
  await seedDatabase(dbPath, {users: size, nodeApi: address, dir})
  const target = {size, dbPath, dir, stubAddress: address}
  progress(`${size} users: stub on ${address}, database seeded (${elapsed(phase)})`)

  phase = performance.now()
  // The first pull only records the counters as the baseline; every later one bills all N users.
  const baseline = await sbq(target, ['stats', 'pull', '--json'], settings, {keepStdout: true})
  const node = (JSON.parse(baseline.stdout) as {nodes: Array<{ok: boolean; baseline: boolean; error: string | null}>})
    .nodes[0]
  if (node === undefined || !node.ok || !node.baseline)
    throw new Error(`baseline pull did not take a baseline: ${baseline.stdout.slice(0, 500)}`)
  progress(`${size} users: baseline pull (${elapsed(phase)})`)
  return target
}

async function benchScenario(scenario: Scenario, target: BenchTarget, settings: BenchSettings): Promise<SizeResult> {
  try {
    const run = async (): Promise<RunMeasurement> => {
      await scenario.setup?.(target)
      return sbq(target, scenario.args, settings, {okExitCodes: scenario.okExitCodes})
    }
    for (let warmup = 0; warmup < settings.warmups; warmup++) await run()
    const runs: RunMeasurement[] = []
    let spentMs = 0
    while (runs.length < settings.runs && (runs.length === 0 || spentMs < settings.scenarioBudgetMs)) {
      const measurement = await run()
      runs.push(measurement)
      spentMs += measurement.wallMs
    }
    const result = measuredResult(scenario, target.size, runs)
    const cut =
      runs.length < settings.runs
        ? ` (only ${runs.length} timed runs: over the ${settings.scenarioBudgetMs / 1000} s budget)`
        : ''
    progress(`${target.size} users: ${scenario.name}: median ${(result.medianMs! / 1000).toFixed(3)} s${cut}`)
    return result
  } catch (error) {
    progress(`${target.size} users: ${scenario.name}: ${error instanceof Error ? error.message : String(error)}`)
    return failedResult(target.size, error)
  }
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
    env: {...sbqEnvironment(settings), NO_COLOR: '1', SBQ_DB: target.dbPath},
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
