import type pg from 'pg'

import {withClient} from './postgres-server.js'
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

/** Users per batch; each batch's daily rows (a month per user) go in one statement too. */
const usersPerBatch = 5_000

/**
 * PostgreSQL: one transaction of column-array inserts (`insert … select from unnest($1::bigint[], …)`), thousands of
 * rows a statement, then the identity sequences past the explicit ids, and VACUUM ANALYZE so the timed commands meet
 * the planner statistics and visibility map a server's autovacuum would have made by then.
 */
export const postgresSeeder: Seeder = {
  async seed(url, plan) {
    await withClient(url, async (client) => {
      await client.query('begin')
      await fill(client, plan)
      for (const table of ['users', 'nodes'])
        await client.query(`select setval(pg_get_serial_sequence($1, 'id'), (select max(id) from ${table}))`, [table])
      await client.query('commit')
      await client.query('vacuum analyze')
    })
  },

  async putOnePercentOverQuota(target) {
    restoreNodeConfig(target.dir, 'bench')
    await withClient(target.db, async (client) => {
      await client.query('begin')
      await client.query(`update users set status = 'active', status_reason = null where id % 100 = 0`)
      await client.query(`update user_usage set period_down = $1 where user_id % 100 = 0`, [overQuotaDown])
      await client.query(
        `insert into node_users (node_id, user_name) select 1, name from users where id % 100 = 0 on conflict do nothing`,
      )
      await client.query('commit')
    })
  },

  async putTenthLimitedAtMonthEnd(target) {
    restoreNodeConfig(target.dir, 'bench', 'tenth-off')
    await withClient(target.db, async (client) => {
      await client.query('begin')
      await client.query(`update users set status = 'limited', status_reason = $1 where id % $2 = 0`, [
        tenthLimitReason,
        tenthLimitedEvery,
      ])
      await client.query(`update user_usage set period_down = $1 where user_id % $2 = 0`, [
        overQuotaDown,
        tenthLimitedEvery,
      ])
      await client.query(`delete from node_users where user_name in (select name from users where id % $1 = 0)`, [
        tenthLimitedEvery,
      ])
      await client.query('commit')
    })
  },
}

type Column = [name: string, type: 'bigint' | 'integer' | 'text', values: Array<number | string>]

/**
 * One statement for many rows: each column sent as one array parameter; `constants` are the same in every row
 * (column name → SQL expression).
 */
async function insertColumns(
  client: pg.Client,
  table: string,
  columns: Column[],
  constants: Record<string, string> = {},
): Promise<void> {
  const names = [...columns.map(([name]) => name), ...Object.keys(constants)]
  const aliases = columns.map((_, index) => `c${index}`)
  const arrays = columns.map(([, type], index) => `$${index + 1}::${type}[]`)
  await client.query(
    `insert into ${table} (${names.join(', ')})
     select ${[...aliases, ...Object.values(constants)].join(', ')} from unnest(${arrays.join(', ')}) as t(${aliases.join(', ')})`,
    columns.map(([, , values]) => values),
  )
}

async function fill(client: pg.Client, plan: SeedPlan): Promise<void> {
  const {now, period} = plan
  for (const node of plan.nodes)
    await client.query(
      `insert into nodes (id, name, type, api, config_path, apply_command, created_at, synced_at) values ($1, $2, 'v2ray', $3, $4, 'true', $5, $5)`,
      [node.id, node.name, node.api, node.configPath, now],
    )
  for (let first = 1; first <= plan.users; first += usersPerBatch) {
    const indexes = Array.from({length: Math.min(usersPerBatch, plan.users - first + 1)}, (_, offset) => first + offset)
    const users = indexes.map(seedUser)
    const ids = users.map((user) => user.id)
    const names = users.map((user) => user.name)
    await insertColumns(
      client,
      'users',
      [
        ['id', 'integer', ids],
        ['name', 'text', names],
        ['uuid', 'text', users.map((user) => user.uuid)],
        ['password', 'text', users.map((user) => user.password)],
        ['password16', 'text', users.map((user) => user.password16)],
      ],
      {status: `'active'`, monthly_quota: `${plan.quota}`, created_at: `${now}`, updated_at: `${now}`},
    )
    await insertColumns(client, 'user_usage', [['user_id', 'integer', ids]], {
      period_start: `${period.start}`,
      period_end: `${period.end}`,
      period_up: '0',
      period_down: '0',
      total_up: '0',
      total_down: '0',
      updated_at: `${now}`,
    })
    for (const node of plan.nodes)
      await insertColumns(client, 'node_users', [['user_name', 'text', names]], {node_id: `${node.id}`})
    const daily = {
      day: [] as string[],
      node: [] as string[],
      user: [] as string[],
      up: [] as number[],
      down: [] as number[],
    }
    for (const index of indexes) {
      const node = nodeOfUser(plan, index)
      plan.days.forEach((day, position) => {
        daily.day.push(day)
        daily.node.push(node)
        daily.user.push(`user${index}`)
        daily.up.push(dailyUp(index))
        daily.down.push(dailyDown(position + 1))
      })
    }
    await insertColumns(client, 'usage_daily', [
      ['day', 'text', daily.day],
      ['node_name', 'text', daily.node],
      ['user_name', 'text', daily.user],
      ['up', 'bigint', daily.up],
      ['down', 'bigint', daily.down],
      ['raw_up', 'bigint', daily.up],
      ['raw_down', 'bigint', daily.down],
    ])
  }
}
