import BetterSqlite3 from 'better-sqlite3'

import {
  dailyDown,
  dailyUp,
  nodeOfUser,
  overQuotaDown,
  restoreNodeConfig,
  seedUser,
  tenthLimitReason,
  tenthLimitedEvery,
  type SeedPlan,
  type Seeder,
} from './seed-plan.js'

/** SQLite: one transaction of prepared inserts through better-sqlite3, well under a second per 100k users. */
export const sqliteSeeder: Seeder = {
  async seed(path, plan) {
    const sqlite = new BetterSqlite3(path)
    try {
      sqlite.transaction(() => fill(sqlite, plan))()
    } finally {
      sqlite.close()
    }
  },

  async putOnePercentOverQuota(target) {
    restoreNodeConfig(target.dir, 'bench')
    const sqlite = new BetterSqlite3(target.db)
    try {
      sqlite.transaction(() => {
        sqlite.prepare(`update users set status = 'active', status_reason = null where id % 100 = 0`).run()
        sqlite.prepare(`update user_usage set period_down = ? where user_id % 100 = 0`).run(overQuotaDown)
        sqlite
          .prepare(`insert or ignore into node_users (node_id, user_name) select 1, name from users where id % 100 = 0`)
          .run()
      })()
    } finally {
      sqlite.close()
    }
  },

  async putTenthLimitedAtMonthEnd(target) {
    restoreNodeConfig(target.dir, 'bench', 'tenth-off')
    const sqlite = new BetterSqlite3(target.db)
    try {
      sqlite.transaction(() => {
        sqlite
          .prepare(`update users set status = 'limited', status_reason = ? where id % ? = 0`)
          .run(tenthLimitReason, tenthLimitedEvery)
        sqlite
          .prepare(`update user_usage set period_down = ? where user_id % ? = 0`)
          .run(overQuotaDown, tenthLimitedEvery)
        sqlite
          .prepare(`delete from node_users where user_name in (select name from users where id % ? = 0)`)
          .run(tenthLimitedEvery)
      })()
    } finally {
      sqlite.close()
    }
  },
}

function fill(sqlite: BetterSqlite3.Database, plan: SeedPlan): void {
  const {now, period} = plan
  const insertNode = sqlite.prepare(
    `insert into nodes (id, name, type, api, config_path, apply_command, created_at, synced_at) values (?, ?, 'v2ray', ?, ?, 'true', ?, ?)`,
  )
  const insertUser = sqlite.prepare(
    `insert into users (id, name, status, monthly_quota, uuid, password, password16, created_at, updated_at)
     values (?, ?, 'active', ?, ?, ?, ?, ?, ?)`,
  )
  const insertUsage = sqlite.prepare(
    `insert into user_usage (user_id, period_start, period_end, period_up, period_down, total_up, total_down, updated_at)
     values (?, ?, ?, 0, 0, 0, 0, ?)`,
  )
  const insertApplied = sqlite.prepare(`insert into node_users (node_id, user_name) values (?, ?)`)
  const insertDaily = sqlite.prepare(
    `insert into usage_daily (day, node_name, user_name, up, down, raw_up, raw_down) values (?, ?, ?, ?, ?, ?, ?)`,
  )
  for (const node of plan.nodes) insertNode.run(node.id, node.name, node.api, node.configPath, now, now)
  for (let index = 1; index <= plan.users; index++) {
    const user = seedUser(index)
    insertUser.run(user.id, user.name, plan.quota, user.uuid, user.password, user.password16, now, now)
    insertUsage.run(user.id, period.start, period.end, now)
    for (const node of plan.nodes) insertApplied.run(node.id, user.name)
    const node = nodeOfUser(plan, index)
    plan.days.forEach((day, position) => {
      const [up, down] = [dailyUp(index), dailyDown(position + 1)]
      insertDaily.run(day, node, user.name, up, down, up, down)
    })
  }
}
