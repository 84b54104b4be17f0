import {copyFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import BetterSqlite3 from 'better-sqlite3'

import {openDatabase} from '../../src/lib/db/open-database.js'
import {defaultResetDay} from '../../src/lib/domain/limits.js'
import {currentPeriod} from '../../src/lib/domain/periods.js'
import {installTimeZone} from '../../src/lib/settings/settings.js'

const GiB = 1024 ** 3

export interface SeedOptions {
  users: number
  /** host:port of the V2Ray-type node every user's traffic is pulled from. */
  nodeApi: string
  /** Where the node's V2Ray config (every user in one vmess inbound) is written. */
  dir: string
  monthlyQuota?: number
}

/** The calendar month before this one: `report --month` reads a whole month of daily rows. */
export function reportMonth(now = new Date()): string {
  const previous = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1))
  return previous.toISOString().slice(0, 7)
}

const inboundTag = 'vmess-in'

/**
 * A database as `sbq user add` x N and `sbq node add` would leave it, built in well under a second per 100k users:
 * sbq's own migrations make the schema, then one transaction of prepared inserts fills it. Rows match what addUser
 * writes (active, a monthly quota, a running-usage row opened at the current period) minus the per-user "created"
 * event, which no benchmarked command reads in bulk.
 */
export async function seedDatabase(path: string, options: SeedOptions): Promise<void> {
  const db = await openDatabase(path)
  let period: {start: number; end: number}
  const now = Date.now()
  try {
    period = currentPeriod(null, now, defaultResetDay, await installTimeZone(db))
  } finally {
    await db.destroy()
  }

  const sqlite = new BetterSqlite3(path)
  try {
    const insertUser = sqlite.prepare(
      `insert into users (id, name, status, monthly_quota, uuid, password, password16, created_at, updated_at)
       values (?, ?, 'active', ?, ?, ?, ?, ?, ?)`,
    )
    const insertUsage = sqlite.prepare(
      `insert into user_usage (user_id, period_start, period_end, period_up, period_down, total_up, total_down, updated_at)
       values (?, ?, ?, 0, 0, 0, 0, ?)`,
    )
    const insertApplied = sqlite.prepare(`insert into node_users (node_id, user_name) values (1, ?)`)
    const insertDaily = sqlite.prepare(
      `insert into usage_daily (day, node_name, user_name, up, down) values (?, 'bench', ?, ?, ?)`,
    )
    const month = reportMonth()
    const days = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)).getUTCDate()
    const quota = options.monthlyQuota ?? 100 * GiB
    const configPath = join(options.dir, 'v2ray.json')
    const clients: Array<{id: string; email: string; level: number; alterId: number}> = []
    sqlite.transaction(() => {
      sqlite
        .prepare(
          `insert into nodes (id, name, type, api, config_path, apply_command, created_at, synced_at) values (1, 'bench', 'v2ray', ?, ?, 'true', ?, ?)`,
        )
        .run(options.nodeApi, configPath, now, now)
      for (let index = 1; index <= options.users; index++) {
        // Credentials are never used by the benchmarked commands; deterministic values keep databases comparable.
        const secret = Buffer.alloc(32, index % 256).toString('base64')
        const name = `user${index}`
        insertUser.run(index, name, quota, indexUuid(index), secret, secret.slice(0, 24), now, now)
        insertUsage.run(index, period.start, period.end, now)
        insertApplied.run(name)
        clients.push({id: indexUuid(index), email: name, level: 0, alterId: 0})
        for (let day = 1; day <= days; day++)
          insertDaily.run(`${month}-${String(day).padStart(2, '0')}`, name, 1000 + index, 50_000 + day)
      }
    })()
    writeFileSync(configPath, JSON.stringify(v2rayConfig(clients), null, 2))
    copyFileSync(configPath, `${configPath}.pristine`)
  } finally {
    sqlite.close()
  }
}

function indexUuid(index: number): string {
  const hex = index.toString(16).padStart(12, '0')
  return `00000000-0000-4000-8000-${hex}`
}

function v2rayConfig(clients: unknown[]) {
  return {
    stats: {},
    api: {tag: 'api', services: ['StatsService', 'HandlerService']},
    policy: {levels: {'0': {statsUserUplink: true, statsUserDownlink: true}}},
    inbounds: [
      {tag: 'api', listen: '127.0.0.1', port: 10085, protocol: 'dokodemo-door', settings: {address: '127.0.0.1'}},
      {tag: inboundTag, listen: '127.0.0.1', port: 10086, protocol: 'vmess', settings: {clients}},
    ],
    outbounds: [{protocol: 'freedom'}],
    routing: {rules: [{type: 'field', inboundTag: ['api'], outboundTag: 'api'}]},
  }
}

/**
 * Before each run of "check, 1% cross quota": every hundredth user active, on the node, in the config, and over
 * their monthly quota, so that run limits 1% of users, rewrites the config and removes them live.
 */
export async function putOnePercentOverQuota(target: {dbPath: string; dir: string}): Promise<void> {
  const configPath = join(target.dir, 'v2ray.json')
  copyFileSync(`${configPath}.pristine`, configPath)
  const sqlite = new BetterSqlite3(target.dbPath)
  try {
    sqlite.transaction(() => {
      sqlite.prepare(`update users set status = 'active', status_reason = null where id % 100 = 0`).run()
      sqlite.prepare(`update user_usage set period_down = ? where user_id % 100 = 0`).run(200 * GiB)
      sqlite
        .prepare(`insert or ignore into node_users (node_id, user_name) select 1, name from users where id % 100 = 0`)
        .run()
    })()
  } finally {
    sqlite.close()
  }
}
