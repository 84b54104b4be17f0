import BetterSqlite3 from 'better-sqlite3'

import {openDatabase} from '../../src/lib/db/open-database.js'
import {defaultResetDay} from '../../src/lib/quotas/limits.js'
import {currentPeriod} from '../../src/lib/quotas/periods.js'
import {installTimeZone} from '../../src/lib/settings/settings.js'

const GiB = 1024 ** 3

export interface SeedOptions {
  users: number
  /** host:port of the V2Ray-type node every user's traffic is pulled from. */
  nodeApi: string
  monthlyQuota?: number
}

/**
 * A database as `sbq user add` x N and `sbq node add` would leave it, built in well under a second per 100k users:
 * sbq's own migrations make the schema, then one transaction of prepared inserts fills it. Rows match what addUser
 * writes (active, a monthly quota, a running-usage row opened at the current period) minus the per-user "created"
 * event, which no benchmarked command reads in bulk.
 */
export async function seedDatabase(path: string, options: SeedOptions): Promise<void> {
  const db = await openDatabase(path)
  let periodStart: number
  const now = Date.now()
  try {
    periodStart = currentPeriod(null, now, defaultResetDay, await installTimeZone(db)).start
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
      `insert into user_usage (user_id, period_start, period_up, period_down, total_up, total_down, updated_at)
       values (?, ?, 0, 0, 0, 0, ?)`,
    )
    const quota = options.monthlyQuota ?? 100 * GiB
    sqlite.transaction(() => {
      for (let index = 1; index <= options.users; index++) {
        // Credentials are never used by the benchmarked commands; deterministic values keep databases comparable.
        const secret = Buffer.alloc(32, index % 256).toString('base64')
        insertUser.run(index, `user${index}`, quota, indexUuid(index), secret, secret.slice(0, 24), now, now)
        insertUsage.run(index, periodStart, now)
      }
      sqlite
        .prepare(`insert into nodes (name, type, api, created_at) values ('bench', 'v2ray', ?, ?)`)
        .run(options.nodeApi, now)
    })()
  } finally {
    sqlite.close()
  }
}

function indexUuid(index: number): string {
  const hex = index.toString(16).padStart(12, '0')
  return `00000000-0000-4000-8000-${hex}`
}
