import BetterSqlite3 from 'better-sqlite3'

const GiB = 1024 ** 3
const day = 86_400_000

/**
 * Thirty days of a user's traffic on node `de1` as pulls would have left it in a SQLite file: daily rows (GiB, varied),
 * and this period's running count equal to the rows inside the period (UTC, reset day 1), so charts and tables tell
 * the same story. The lifetime count has 40 GiB more, from before.
 */
export function seedHistory(db: string, user: string, now: number): void {
  const sqlite = new BetterSqlite3(db)
  try {
    const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1)
    let periodDown = 0
    const insert = sqlite.prepare(
      `insert into usage_daily (day, node_name, user_name, up, down) values (?, 'de1', ?, ?, ?)`,
    )
    sqlite.transaction(() => {
      for (let back = 29; back >= 0; back--) {
        const at = now - back * day
        const down = Math.round((0.15 + ((back * 37) % 11) / 20) * GiB)
        const up = Math.round(down / 9)
        insert.run(new Date(at).toISOString().slice(0, 10), user, up, down)
        if (at >= monthStart) periodDown += up + down
      }
      sqlite
        .prepare(
          `update user_usage set period_down = ?, total_down = ? where user_id = (select id from users where name = ?)`,
        )
        .run(periodDown, periodDown + 40 * GiB, user)
    })()
  } finally {
    sqlite.close()
  }
}
