/**
 * `npm run bench:web`: the dashboard's pages against a seeded database of BENCH_WEB_USERS users (default 10,000),
 * served by the real `sbq serve`. Logs in like a browser, then times each page BENCH_WEB_RUNS times (default 30):
 * the server's own time from its Server-Timing header, and the whole request as the client saw it. Target: a median
 * server time of at most 150 ms per page.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import BetterSqlite3 from 'better-sqlite3'

import {closePastDays} from '../src/lib/accounting/close-days.js'
import {openDatabase} from '../src/lib/db/open-database.js'
import {settingValue} from '../src/lib/settings/settings.js'
import {localDay} from '../src/lib/domain/zoned-time.js'
import {repoRoot, sbqBin} from '../test/support/paths.js'
import {startServe, type RunningServe} from '../test/support/run-serve.js'
import {onExit} from './lib/exit-cleanup.js'
import {seedDatabase} from './lib/seed-database.js'
import {summarise} from './lib/statistics.js'

const users = Number(process.env.BENCH_WEB_USERS ?? 10_000)
const runs = Math.max(20, Number(process.env.BENCH_WEB_RUNS ?? 30))
const warmups = 3
const targetMs = 150
const password = 'bench dashboard password'
const GiB = 1024 ** 3

const pages: Array<{name: string; path: string}> = [
  {name: 'dashboard, first page', path: '/'},
  {name: 'dashboard, page 100', path: '/?page=100'},
  {name: 'search "user12"', path: '/?q=user12'},
  {name: 'sort by period used', path: '/?sort=used&dir=desc'},
  {name: 'sort by expiry', path: '/?sort=expires'},
  {name: 'status filter: limited', path: '/?status=limited'},
  {name: 'user page', path: `/users/user${Math.ceil(users / 2)}`},
  {name: 'user page + credentials', path: `/users/user${Math.ceil(users / 3)}?credentials=show`},
]

function progress(line: string): void {
  process.stderr.write(`bench:web: ${line}\n`)
}

/**
 * What seedDatabase leaves (users, a node, last month's daily rows), plus this month's daily rows up to today,
 * varied period usage, a few limited/disabled/expiring users and top-ups: what a busy install's dashboard reads.
 */
function addCurrentActivity(path: string): void {
  const sqlite = new BetterSqlite3(path)
  try {
    const now = new Date()
    const month = now.toISOString().slice(0, 7)
    const daily = sqlite.prepare(
      `insert or ignore into usage_daily (day, node_name, user_name, up, down) values (?, 'bench', ?, ?, ?)`,
    )
    sqlite.transaction(() => {
      for (let index = 1; index <= users; index++) {
        for (let day = 1; day <= now.getUTCDate(); day++)
          daily.run(`${month}-${String(day).padStart(2, '0')}`, `user${index}`, 1000 * index, 20_000 * day + index)
      }
      sqlite
        .prepare(
          `update user_usage set period_down = (user_id * 7919) % ${120 * GiB}, period_up = user_id * 1000, total_down = (user_id * 104729) % ${900 * GiB}`,
        )
        .run()
      sqlite.prepare(`update users set status = 'limited' where id % 50 = 0`).run()
      sqlite.prepare(`update users set status = 'disabled' where id % 97 = 0`).run()
      sqlite.prepare(`update users set expires_at = ? + id * 3600000 where id % 3 = 0`).run(Date.now())
      const topup = sqlite.prepare(
        `insert into topups (user_id, period_start, bytes, note, actor, created_at) select id, period_start, ?, null, 'cli', ? from users join user_usage on user_id = id where id % 200 = 0`,
      )
      topup.run(10 * GiB, Date.now())
    })()
  } finally {
    sqlite.close()
  }
}

/**
 * The rows above were written by hand, not by pulls, so no day has been closed into month sums yet. On a running
 * install the first pull of each day does that; do it once here so the pages read what they would read there.
 */
async function closeDaysAsAPullWould(path: string): Promise<void> {
  const database = await openDatabase(path)
  try {
    const timeZone = await settingValue(database, 'timezone')
    await database.transaction().execute((trx) => closePastDays(trx, localDay(Date.now(), timeZone)))
  } finally {
    await database.destroy()
  }
}

interface Client {
  cookie: string
}

async function logIn(base: string): Promise<Client> {
  const form = await fetch(`${base}/login`)
  const loginCookie = form.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ')
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? ''
  const response = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie},
    body: new URLSearchParams({_csrf: token, password}).toString(),
  })
  const session = response.headers.getSetCookie().find((line) => line.startsWith('sbq_session='))
  if (response.status !== 303 || session === undefined)
    throw new Error(`login failed: ${response.status} ${await response.text()}`)
  return {cookie: session.split(';')[0]!}
}

async function timePage(base: string, client: Client, path: string): Promise<{server: number; total: number}> {
  const started = performance.now()
  const response = await fetch(`${base}${path}`, {
    headers: {cookie: client.cookie, 'accept-language': 'en'},
    redirect: 'manual',
  })
  const body = await response.text()
  const total = performance.now() - started
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${body.slice(0, 200)}`)
  const server = Number(/app;dur=([\d.]+)/.exec(response.headers.get('server-timing') ?? '')?.[1] ?? Number.NaN)
  return {server, total}
}

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sbq-bench-web-'))
  const removeDir = onExit(() => rmSync(dir, {recursive: true, force: true}))
  const db = join(dir, 'sbq.db')
  let serve: RunningServe | undefined
  try {
    const seeded = performance.now()
    await seedDatabase(db, {users, nodeApi: '127.0.0.1:9', dir})
    addCurrentActivity(db)
    await closeDaysAsAPullWould(db)
    execFileSync(sbqBin, ['admin', 'set-password', '--password-stdin'], {
      input: password,
      env: {...process.env, SBQ_DB: db},
      stdio: ['pipe', 'ignore', 'inherit'],
    })
    progress(
      `seeded ${users.toLocaleString('en-US')} users in ${((performance.now() - seeded) / 1000).toFixed(1)} s; ${warmups} warm-up + ${runs} timed requests per page`,
    )
    serve = await startServe(db, {})
    onExit(() => serve?.child.kill('SIGKILL'))
    const client = await logIn(serve.base)
    const rows: Array<{
      page: string
      path: string
      serverMedianMs: number
      serverMaxMs: number
      totalMedianMs: number
      ok: boolean
    }> = []
    for (const page of pages) {
      for (let warm = 0; warm < warmups; warm++) await timePage(serve.base, client, page.path)
      const samples = []
      for (let run = 0; run < runs; run++) samples.push(await timePage(serve.base, client, page.path))
      const server = summarise(samples.map((sample) => sample.server))
      const total = summarise(samples.map((sample) => sample.total))
      rows.push({
        page: page.name,
        path: page.path,
        serverMedianMs: server.median,
        serverMaxMs: server.max,
        totalMedianMs: total.median,
        ok: server.median <= targetMs,
      })
      progress(`${page.name}: server median ${server.median.toFixed(1)} ms`)
    }
    const width = Math.max(...rows.map((row) => row.page.length))
    process.stdout.write(
      `\ndashboard pages at ${users.toLocaleString('en-US')} users (median of ${runs}; target: server ≤ ${targetMs} ms)\n`,
    )
    process.stdout.write(`${'page'.padEnd(width)}  server median  server max  request median\n`)
    for (const row of rows) {
      process.stdout.write(
        `${row.page.padEnd(width)}  ${`${row.serverMedianMs.toFixed(1)} ms`.padStart(13)}  ${`${row.serverMaxMs.toFixed(1)} ms`.padStart(10)}  ${`${row.totalMedianMs.toFixed(1)} ms`.padStart(14)}${row.ok ? '' : '  OVER TARGET'}\n`,
      )
    }
    const file = join(repoRoot, 'bench', 'web-results.json')
    writeFileSync(
      file,
      `${JSON.stringify({date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, users, runs, targetMs, pages: rows}, null, 2)}\n`,
    )
    progress(`wrote ${file}`)
    return rows.every((row) => row.ok) ? 0 : 1
  } finally {
    await serve?.stop()
    removeDir()
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench:web: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
