/**
 * `npm run bench:fleet`: a fleet of BENCH_FLEET_HOSTS sbq hosts on one PostgreSQL database (topology 2 of
 * docs/fleets.md). The database holds hosts × BENCH_FLEET_USERS users, every one on every node as sbq keeps them;
 * each host has its own node, a stub V2Ray API process on loopback that counts its own BENCH_FLEET_USERS users, and
 * runs its own `bin/sbq check --node <node>` (BENCH_FLEET_COMMAND="stats pull": `sbq stats pull --node <node>`).
 * Each round times one host alone, then every host at once. Prints the slowest and median host, slowest/lone, the
 * CPU-bound floor and the ledger write rate; writes bench/fleet-results.json.
 */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {repoRoot, sbqBin} from '../test/support/paths.js'
import {benchSettings, count, sbqEnvironment} from './lib/bench-settings.js'
import {onExit} from './lib/exit-cleanup.js'
import {startPostgres, withClient} from './lib/postgres-server.js'
import {seedDatabase} from './lib/seed-database.js'
import {summarise} from './lib/statistics.js'
import {startStub, type StubProcess} from './lib/stub-process.js'
import {RunTimedOut, timedRun} from './lib/timed-run.js'

const growBytes = 1000
const commands = {check: ['check'], 'stats pull': ['stats', 'pull']} as const
type FleetCommand = keyof typeof commands

interface FleetSettings {
  hosts: number
  usersPerHost: number
  rounds: number
  command: FleetCommand
  runTimeoutMs: number
  totalTimeoutMs: number
}

function fleetSettings(env: NodeJS.ProcessEnv = process.env): FleetSettings {
  const command = env.BENCH_FLEET_COMMAND?.trim() || 'check'
  if (!(command in commands))
    throw new Error(`BENCH_FLEET_COMMAND: "${command}" is not one of ${Object.keys(commands).join(', ')}`)
  return {
    hosts: count(env.BENCH_FLEET_HOSTS, 10, 'BENCH_FLEET_HOSTS'),
    usersPerHost: count(env.BENCH_FLEET_USERS, 10_000, 'BENCH_FLEET_USERS'),
    rounds: count(env.BENCH_FLEET_ROUNDS, 3, 'BENCH_FLEET_ROUNDS'),
    command: command as FleetCommand,
    runTimeoutMs: count(env.BENCH_RUN_TIMEOUT_S, 120, 'BENCH_RUN_TIMEOUT_S') * 1000,
    totalTimeoutMs: count(env.BENCH_TIMEOUT_S, 3600, 'BENCH_TIMEOUT_S') * 1000,
  }
}

/** One host's run: its time, or why it has none. */
interface HostRun {
  host: string
  ms: number | null
  outcome: 'ok' | 'timed out' | 'failed'
  error: string | null
}

interface Round {
  loneMs: number | null
  loneOutcome: HostRun['outcome']
  /** From the start of all hosts to the end of the last. */
  fleetWallMs: number
  hosts: HostRun[]
  slowestMs: number | null
  medianMs: number | null
  /** usage_daily and user_usage rows inserted or updated during the fleet's runs (pg_stat_user_tables). */
  rowsWritten: number
  rowsPerSecond: number
}

interface Host {
  name: string
  stub: StubProcess
  dir: string
}

async function main(): Promise<number> {
  const settings = fleetSettings()
  const deadline = setTimeout(() => {
    progress(`gave up after ${settings.totalTimeoutMs / 1000} s (BENCH_TIMEOUT_S)`)
    process.exit(1)
  }, settings.totalTimeoutMs)
  deadline.unref()
  const cores = cpus().length
  const load = loadavg()
  progress(
    `${settings.hosts} hosts × ${settings.usersPerHost.toLocaleString('en-US')} users, \`sbq ${settings.command} --node\`, ${settings.rounds} rounds; ${cores} cores; load average ${load.map((value) => value.toFixed(2)).join(' ')}`,
  )

  const server = await startPostgres()
  const {fsync, synchronous_commit, full_page_writes, server_version} = server.settings
  progress(
    `PostgreSQL ${server_version} on ${server.origin}: fsync ${fsync}, synchronous_commit ${synchronous_commit}, full_page_writes ${full_page_writes}`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'sbq-bench-fleet-'))
  const removeDir = onExit(() => rmSync(dir, {recursive: true, force: true}))
  const hosts: Host[] = []
  try {
    for (let index = 0; index < settings.hosts; index++) {
      const name = `host${index + 1}`
      const stub = startStub({
        users: settings.usersPerHost,
        first: index * settings.usersPerHost + 1,
        growBytes,
        timeoutMs: 60_000,
      })
      const hostDir = join(dir, name)
      mkdirSync(hostDir)
      hosts.push({name, stub, dir: hostDir})
    }
    const database = await server.createDatabase(`sbq_fleet_${process.pid}`)
    const users = settings.hosts * settings.usersPerHost
    let phase = performance.now()
    await seedDatabase(database.url, {
      users,
      nodes: await Promise.all(hosts.map(async (host) => ({name: host.name, api: await host.stub.address}))),
      dir,
    })
    progress(`${users.toLocaleString('en-US')} users on ${settings.hosts} nodes seeded (${elapsed(phase)})`)

    const run = (host: Host, args: readonly string[]): Promise<HostRun> =>
      runHost(host, args, database.url, settings.runTimeoutMs)
    phase = performance.now()
    // Each node's first pull only takes the baseline (and the first closes last month's days), one host at a time.
    for (const host of hosts) await mustSucceed(run(host, ['stats', 'pull']))
    progress(`baseline pulls, one host after the other (${elapsed(phase)})`)
    const args = commands[settings.command]
    await mustSucceed(run(hosts[0]!, args))

    const rounds: Round[] = []
    for (let round = 1; round <= settings.rounds; round++) {
      const lone = await run(hosts[0]!, args)
      const before = await ledgerWrites(database.url)
      const started = performance.now()
      const fleet = await Promise.all(hosts.map((host) => run(host, args)))
      const fleetWallMs = performance.now() - started
      if (fleet.some((host) => host.outcome !== 'ok')) await endStrayBackends(database.url)
      const rowsWritten = (await ledgerWrites(database.url)) - before
      const times = fleet.flatMap((host) => (host.ms === null ? [] : [host.ms]))
      const result: Round = {
        loneMs: lone.ms,
        loneOutcome: lone.outcome,
        fleetWallMs,
        hosts: fleet,
        slowestMs: times.length === fleet.length ? Math.max(...times) : null,
        medianMs: times.length === 0 ? null : summarise(times).median,
        rowsWritten,
        rowsPerSecond: rowsWritten / (fleetWallMs / 1000),
      }
      rounds.push(result)
      const failed = fleet.filter((host) => host.outcome !== 'ok')
      progress(
        `round ${round}: lone ${show(lone)}; ${settings.hosts} at once: slowest ${seconds(result.slowestMs)}, median ${seconds(result.medianMs)}, wall ${seconds(fleetWallMs)}; ${rowsWritten.toLocaleString('en-US')} ledger rows, ${Math.round(result.rowsPerSecond).toLocaleString('en-US')}/s${failed.length === 0 ? '' : `; ${failed.map((host) => `${host.host} ${host.outcome}`).join(', ')}`}`,
      )
      for (const host of failed) if (host.error !== null) progress(`  ${host.host}: ${host.error}`)
    }

    const summary = summariseRounds(rounds, settings, cores)
    process.stdout.write(`\n${renderSummary(summary, settings, cores)}`)
    const file = join(repoRoot, 'bench', 'fleet-results.json')
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          node: process.version,
          cpus: cores,
          cpuModel: cpus()[0]?.model ?? null,
          loadAverageAtStart: load,
          postgres: {server: server.origin, settings: server.settings},
          settings,
          summary,
          rounds,
        },
        null,
        2,
      )}\n`,
    )
    process.stdout.write(`\nwrote ${file}\n`)
    await database.drop()
    return rounds.every((round) => round.hosts.every((host) => host.outcome === 'ok')) ? 0 : 1
  } finally {
    for (const host of hosts) await host.stub.stop()
    server.stop()
    removeDir()
  }
}

async function runHost(host: Host, args: readonly string[], url: string, timeoutMs: number): Promise<HostRun> {
  try {
    const measurement = await timedRun({
      command: sbqBin,
      args: [...args, '--node', host.name],
      env: {...sbqEnvironment(benchSettings()), NO_COLOR: '1', SBQ_DB: url},
      scratchDir: host.dir,
      timeoutMs,
      okExitCodes: [0],
    })
    return {host: host.name, ms: measurement.wallMs, outcome: 'ok', error: null}
  } catch (error) {
    return {
      host: host.name,
      ms: null,
      outcome: error instanceof RunTimedOut ? 'timed out' : 'failed',
      error: error instanceof Error ? error.message : String(error),
    }
  }
}

async function mustSucceed(run: Promise<HostRun>): Promise<void> {
  const result = await run
  if (result.outcome !== 'ok') throw new Error(`${result.host}: ${result.error}`)
}

/** Rows inserted or updated in the ledger's two hot tables so far, as PostgreSQL's statistics count them. */
async function ledgerWrites(url: string): Promise<number> {
  // A backend sends its counts when it ends; sbq's backends end with their processes, just before this runs.
  await new Promise((resolve) => setTimeout(resolve, 500))
  return withClient(url, async (client) => {
    const {rows} = await client.query<{rows: string}>(
      `select coalesce(sum(n_tup_ins + n_tup_upd), 0)::text as rows from pg_stat_user_tables where relname in ('usage_daily', 'user_usage')`,
    )
    return Number(rows[0]!.rows)
  })
}

/** After a timed-out run: the killed hosts' backends, should any still wait on a lock, end before the next round. */
async function endStrayBackends(url: string): Promise<void> {
  await withClient(url, (client) =>
    client.query(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'sbq' and datname = current_database()`,
    ),
  )
}

interface Summary {
  rounds: number
  loneMedianMs: number | null
  slowestMedianMs: number | null
  medianHostMedianMs: number | null
  fleetWallMedianMs: number
  slowestOverLone: number | null
  /** The lone host's CPU time spread over the machine's cores: the fleet cannot finish faster on this machine. */
  cpuFloorMs: number | null
  rowsPerSecondMedian: number
  rowsWrittenMedian: number
  timedOut: number
  failed: number
}

function summariseRounds(rounds: Round[], settings: FleetSettings, cores: number): Summary {
  const median = (values: Array<number | null>): number | null => {
    const known = values.filter((value): value is number => value !== null)
    return known.length === 0 ? null : summarise(known).median
  }
  const lone = median(rounds.map((round) => round.loneMs))
  const slowest = median(rounds.map((round) => round.slowestMs))
  const hosts = rounds.flatMap((round) => round.hosts)
  return {
    rounds: rounds.length,
    loneMedianMs: lone,
    slowestMedianMs: slowest,
    medianHostMedianMs: median(rounds.map((round) => round.medianMs)),
    fleetWallMedianMs: summarise(rounds.map((round) => round.fleetWallMs)).median,
    slowestOverLone: lone === null || slowest === null ? null : slowest / lone,
    cpuFloorMs: lone === null ? null : (lone * settings.hosts) / Math.min(cores, settings.hosts),
    rowsPerSecondMedian: summarise(rounds.map((round) => round.rowsPerSecond)).median,
    rowsWrittenMedian: summarise(rounds.map((round) => round.rowsWritten)).median,
    timedOut: hosts.filter((host) => host.outcome === 'timed out').length,
    failed: hosts.filter((host) => host.outcome === 'failed').length,
  }
}

function renderSummary(summary: Summary, settings: FleetSettings, cores: number): string {
  const rows: Array<[string, string]> = [
    ['command', `sbq ${settings.command} --node <host's node>`],
    [
      'fleet',
      `${settings.hosts} hosts × ${settings.usersPerHost.toLocaleString('en-US')} users (${(settings.hosts * settings.usersPerHost).toLocaleString('en-US')} in the database), ${cores} cores`,
    ],
    ['rounds', String(summary.rounds)],
    ['lone host', seconds(summary.loneMedianMs)],
    ['all at once: slowest host', seconds(summary.slowestMedianMs)],
    ['all at once: median host', seconds(summary.medianHostMedianMs)],
    ['slowest / lone', summary.slowestOverLone === null ? '-' : `${summary.slowestOverLone.toFixed(2)}×`],
    [
      `CPU-bound floor (lone × ${settings.hosts} / ${Math.min(cores, settings.hosts)} cores)`,
      seconds(summary.cpuFloorMs),
    ],
    ['ledger rows written per round', summary.rowsWrittenMedian.toLocaleString('en-US')],
    ['ledger write rate', `${Math.round(summary.rowsPerSecondMedian).toLocaleString('en-US')} rows/s`],
    ['host runs timed out / failed', `${summary.timedOut} / ${summary.failed}`],
  ]
  const width = Math.max(...rows.map(([name]) => name.length))
  return `${[`| ${'figure (medians over rounds)'.padEnd(width)} | value |`, `| ${'-'.repeat(width)} | ----: |`, ...rows.map(([name, value]) => `| ${name.padEnd(width)} | ${value} |`)].join('\n')}\n`
}

function show(run: HostRun): string {
  return run.outcome === 'ok' ? seconds(run.ms) : run.outcome
}

function seconds(ms: number | null): string {
  return ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`
}

function progress(message: string): void {
  process.stderr.write(`bench:fleet: ${message}\n`)
}

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(2)} s`
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:fleet: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
