/**
 * A floor of `npm run bench`: the ledger writes of one pull done as directly as SQL allows.
 * `node sql-alone.js --db DB --users N --every K --day D` adds one daily row (node "bench", day D) and one running
 * total to every user whose number is a multiple of K, the figures sent as one array (JSON on SQLite, column arrays on
 * PostgreSQL) and written with one set-based statement per table in one transaction, with sbq's connection settings;
 * `--repeat` times on one connection. Prints `{"ms":…,"warmMs":…}`: the first transaction (a fresh process's, as a
 * cron job's `sbq check`) and the median of the later ones (a long-running process's), each from the transaction's
 * start to its commit (connecting is left out).
 */
import BetterSqlite3 from 'better-sqlite3'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'
import pg from 'pg'

import {summarise} from './statistics.js'

import {isServerDatabase} from '../../src/lib/db/open-database.js'

/** Bytes each active user is billed per direction, as the stub grows each counter. */
const bytes = 1000

interface Writes {
  day: string
  ids: number[]
  names: string[]
  up: number[]
  down: number[]
}

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      db: {type: 'string'},
      users: {type: 'string'},
      every: {type: 'string', default: '1'},
      day: {type: 'string'},
      repeat: {type: 'string', default: '4'},
    },
  })
  if (values.db === undefined || values.users === undefined || values.day === undefined)
    throw new Error('give --db, --users and --day')
  const every = Number(values.every)
  const ids: number[] = []
  for (let id = every; id <= Number(values.users); id += every) ids.push(id)
  const writes: Writes = {
    day: values.day,
    ids,
    names: ids.map((id) => `user${id}`),
    up: ids.map(() => bytes),
    down: ids.map(() => bytes),
  }
  const repeat = Math.max(2, Number(values.repeat))
  const [ms, ...warm] = isServerDatabase(values.db)
    ? await postgres(values.db, writes, repeat)
    : sqlite(values.db, writes, repeat)
  process.stdout.write(`${JSON.stringify({ms, warmMs: summarise(warm).median})}\n`)
}

function sqlite(path: string, writes: Writes, repeat: number): number[] {
  const db = new BetterSqlite3(path)
  try {
    // sbq's own settings for its connection (src/lib/db/sqlite/open-sqlite.ts).
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('cache_size = -65536')
    const rows = JSON.stringify(
      writes.ids.map((id, index) => [id, writes.names[index], writes.up[index], writes.down[index]]),
    )
    const daily = db.prepare(
      `insert into usage_daily (day, node_name, user_name, up, down, raw_up, raw_down)
       select ?, 'bench', value ->> 1, value ->> 2, value ->> 3, value ->> 2, value ->> 3 from json_each(?) where true
       on conflict (day, node_name, user_name) do update set up = usage_daily.up + excluded.up, down = usage_daily.down + excluded.down,
         raw_up = usage_daily.raw_up + excluded.raw_up, raw_down = usage_daily.raw_down + excluded.raw_down`,
    )
    const running = db.prepare(
      `update user_usage set period_up = period_up + t.up, period_down = period_down + t.down,
         total_up = total_up + t.up, total_down = total_down + t.down,
         raw_period_up = raw_period_up + t.up, raw_period_down = raw_period_down + t.down,
         raw_total_up = raw_total_up + t.up, raw_total_down = raw_total_down + t.down, updated_at = ?
       from (select value ->> 0 as id, value ->> 2 as up, value ->> 3 as down from json_each(?)) as t
       where user_usage.user_id = t.id`,
    )
    const times: number[] = []
    for (let run = 0; run < repeat; run++) {
      const started = performance.now()
      db.transaction(() => {
        daily.run(writes.day, rows)
        running.run(Date.now(), rows)
      })()
      times.push(performance.now() - started)
    }
    return times
  } finally {
    db.close()
  }
}

async function postgres(url: string, writes: Writes, repeat: number): Promise<number[]> {
  const client = new pg.Client({connectionString: url, application_name: 'sbq-bench-floor'})
  await client.connect()
  try {
    const times: number[] = []
    for (let run = 0; run < repeat; run++) times.push(await postgresWrites(client, writes))
    return times
  } finally {
    await client.end()
  }
}

async function postgresWrites(client: pg.Client, writes: Writes): Promise<number> {
  const started = performance.now()
  await client.query('begin')
  await client.query(
    `insert into usage_daily (day, node_name, user_name, up, down, raw_up, raw_down)
       select $1, 'bench', t.name, t.up, t.down, t.up, t.down from unnest($2::text[], $3::bigint[], $4::bigint[]) as t(name, up, down)
       on conflict (day, node_name, user_name) do update set up = usage_daily.up + excluded.up, down = usage_daily.down + excluded.down,
         raw_up = usage_daily.raw_up + excluded.raw_up, raw_down = usage_daily.raw_down + excluded.raw_down`,
    [writes.day, writes.names, writes.up, writes.down],
  )
  await client.query(
    `update user_usage set period_up = period_up + t.up, period_down = period_down + t.down,
         total_up = total_up + t.up, total_down = total_down + t.down,
         raw_period_up = raw_period_up + t.up, raw_period_down = raw_period_down + t.down,
         raw_total_up = raw_total_up + t.up, raw_total_down = raw_total_down + t.down, updated_at = $1
       from unnest($2::integer[], $3::bigint[], $4::bigint[]) as t(id, up, down)
       where user_usage.user_id = t.id`,
    [Date.now(), writes.ids, writes.up, writes.down],
  )
  await client.query('commit')
  return performance.now() - started
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
