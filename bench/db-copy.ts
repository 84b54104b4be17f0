/**
 * `npm run bench:copy`: the done-when for `sbq db copy`. Builds the bench's database of BENCH_COPY_USERS
 * users (100,000 by default: a month of daily rows each, then two pulls from the stub so every running total and the
 * closed-month sums have figures), copies it SQLite → PostgreSQL (a durable throw-away cluster: fsync on, as a server
 * runs) → a new SQLite file with the real bin/sbq, and checks that the three databases give identical totals. Prints
 * the time and peak RSS of each copy and the rows copied; writes bench/copy-results.json.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {repoRoot, sbqBin} from '../test/support/paths.js'
import {onExit} from './lib/exit-cleanup.js'
import {reportMonth, seedDatabase} from './lib/seed-database.js'
import {startStub} from './lib/stub-process.js'
import {rssMeasurable, timedRun, type RunMeasurement} from './lib/timed-run.js'

const users = Number(process.env.BENCH_COPY_USERS ?? 100_000)
const runTimeoutMs = Number(process.env.BENCH_RUN_TIMEOUT_S ?? 1800) * 1000
/** Where GNU time writes its reports: the run's own temp directory. */
let scratchDir = tmpdir()

interface CopyJson {
  tables: Array<{name: string; rows: number}>
  users: number
  totalUp: number
  totalDown: number
  verified: boolean
}

interface Totals {
  report: unknown
  users: unknown
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sbq-bench-copy-'))
  const removeDir = onExit(() => rmSync(dir, {recursive: true, force: true}))
  scratchDir = dir
  const cluster = startCluster()
  const stopPostgres = onExit(() => stopCluster(cluster.dir))
  const stub = startStub({users, growBytes: 1000, timeoutMs: 60_000})
  try {
    const source = join(dir, 'source.db')
    let phase = performance.now()
    await seedDatabase(source, {users, nodeApi: await stub.address, dir})
    progress(`${users} users seeded (${elapsed(phase)})`)
    phase = performance.now()
    // The first pull takes the baseline, the second bills every user: running totals and closed-month sums.
    await sbq(source, ['stats', 'pull'])
    await sbq(source, ['stats', 'pull'])
    progress(`two pulls (${elapsed(phase)})`)
    await stub.stop()

    const server = `${cluster.url.replace(/\/postgres$/, '')}/sbq_copy`
    execFileSync('psql', [cluster.url, '-X', '-q', '-c', 'create database sbq_copy'])
    const back = join(dir, 'back.db')
    const toServer = await copy(source, server)
    const toFile = await copy(server, back)

    phase = performance.now()
    const expected = await totals(source)
    const mismatches = [
      ['PostgreSQL copy', await totals(server)],
      ['SQLite copy of it', await totals(back)],
    ].filter(([, got]) => JSON.stringify(got) !== JSON.stringify(expected))
    for (const [name] of mismatches) progress(`${name}: totals differ from the source's`)
    progress(`month report and user list compared (${elapsed(phase)})`)
    const sameTables = JSON.stringify(toServer.json.tables) === JSON.stringify(toFile.json.tables)
    if (!sameTables) progress('the two copies copied different row counts')

    const rows = toServer.json.tables.reduce((sum, table) => sum + table.rows, 0)
    const lines = [
      `sbq db copy, ${users.toLocaleString('en-US')} users, ${rows.toLocaleString('en-US')} rows:`,
      ...toServer.json.tables
        .filter((table) => table.rows > 0)
        .map((table) => `  ${table.name.padEnd(22)} ${table.rows.toLocaleString('en-US').padStart(12)}`),
      `  SQLite → PostgreSQL  ${seconds(toServer.run)}  peak RSS ${rss(toServer.run)}`,
      `  PostgreSQL → SQLite  ${seconds(toFile.run)}  peak RSS ${rss(toFile.run)}`,
      `  totals identical in all three: ${mismatches.length === 0 && sameTables ? 'yes' : 'NO'} (user_usage up ${toServer.json.totalUp.toLocaleString('en-US')}, down ${toServer.json.totalDown.toLocaleString('en-US')} bytes)`,
    ]
    process.stdout.write(`\n${lines.join('\n')}\n`)
    const file = join(repoRoot, 'bench', 'copy-results.json')
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          date: new Date().toISOString(),
          node: process.version,
          cpus: cpus().length,
          users,
          rows,
          tables: toServer.json.tables,
          toPostgres: {seconds: toServer.run.wallMs / 1000, rssKb: toServer.run.rssKb},
          toSqlite: {seconds: toFile.run.wallMs / 1000, rssKb: toFile.run.rssKb},
          identical: mismatches.length === 0 && sameTables,
        },
        null,
        2,
      )}\n`,
    )
    process.stdout.write(`wrote ${file}\n`)
    return mismatches.length === 0 && sameTables ? 0 : 1
  } finally {
    await stub.stop()
    stopPostgres()
    removeDir()
  }
}

async function copy(from: string, to: string): Promise<{run: RunMeasurement; json: CopyJson}> {
  const phase = performance.now()
  const run = await sbq(from, ['db', 'copy', '--to', to, '--json'])
  const json = JSON.parse(run.stdout) as CopyJson
  if (!json.verified) throw new Error(`the copy into ${to} was not verified: ${run.stdout.slice(0, 500)}`)
  progress(`copied ${from} to ${to} (${elapsed(phase)})`)
  return {run, json}
}

/** What a user of the copy sees: last month's report (read from the daily rows) and every user's running totals. */
async function totals(db: string): Promise<Totals> {
  const report = JSON.parse((await sbq(db, ['report', '--month', reportMonth(), '--json'])).stdout) as {
    totals: unknown
    users: number
    rows: unknown[]
  }
  const list = JSON.parse((await sbq(db, ['user', 'list', '--json'])).stdout) as Array<Record<string, unknown>>
  return {
    report: {totals: report.totals, users: report.users, rows: report.rows},
    users: list.map(({name, periodUp, periodDown, totalUp, totalDown}) => [
      name,
      periodUp,
      periodDown,
      totalUp,
      totalDown,
    ]),
  }
}

function sbq(db: string, args: string[]): Promise<RunMeasurement> {
  return timedRun({
    command: sbqBin,
    args,
    env: {PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', SBQ_DB: db},
    scratchDir,
    timeoutMs: runTimeoutMs,
    okExitCodes: [0],
    keepStdout: true,
  })
}

/** A durable cluster (fsync and synchronous commit on), started and stopped by the tests' own script. */
function startCluster(): {dir: string; url: string} {
  const script = join(repoRoot, 'scripts', 'postgres-cluster.mjs')
  const out = execFileSync(process.execPath, [script, 'start', '--durable'], {encoding: 'utf8'})
  const value = (name: string) => new RegExp(`${name}='([^']*)'`).exec(out)?.[1]
  const url = value('SBQ_TEST_POSTGRES')
  const dir = value('SBQ_TEST_POSTGRES_DIR')
  if (!url || !dir) throw new Error(`postgres-cluster.mjs start said: ${out}`)
  return {dir, url}
}

function stopCluster(dir: string): void {
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'postgres-cluster.mjs'), 'stop', dir])
}

function seconds(run: RunMeasurement): string {
  return `${(run.wallMs / 1000).toFixed(1)} s`.padStart(8)
}

function rss(run: RunMeasurement): string {
  return run.rssKb === null ? 'not measured (no /usr/bin/time)' : `${Math.round(run.rssKb / 1024)} MB`
}

function progress(message: string): void {
  process.stderr.write(`bench:copy: ${message}\n`)
}

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(2)} s`
}

if (!rssMeasurable) progress('no /usr/bin/time (apt package "time"): peak RSS is not measured')
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:copy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  },
)
