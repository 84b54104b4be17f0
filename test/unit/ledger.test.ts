import assert from 'node:assert/strict'
import {sql} from 'kysely'
import {beforeEach, describe, it} from 'node:test'

import {recordPull} from '../../src/lib/accounting/ledger.js'
import {readBaseline} from '../../src/lib/db/nodes-repository.js'
import type {Db} from '../../src/lib/db/open-database.js'
import type {NodeRow} from '../../src/lib/db/schema.js'
import {addUser, listUsers} from '../../src/lib/users/user-service.js'
import {contextAt, memoryDb} from '../support/memory-db.js'
import {testDialect} from '../support/test-database.js'
import {insertV2rayNode} from '../support/test-nodes.js'

const up = (name: string) => `user>>>${name}>>>traffic>>>uplink`
const down = (name: string) => `user>>>${name}>>>traffic>>>downlink`
const snapshot = (counters: Record<string, number>, uptimeSeconds: number | null = null) => ({
  counters: Object.entries(counters).map(([name, value]) => ({name, value})),
  uptimeSeconds,
})

describe('recordPull', () => {
  let db: Db
  let node: NodeRow
  const may10 = contextAt('2024-05-10T12:00:00Z')

  beforeEach(async () => {
    db = await memoryDb()
    await addUser(db, {name: 'alice', reset: {every: 'month', day: 1}}, may10)
    node = await insertV2rayNode(db, 'n1', may10.now)
  })

  async function usage(name: string) {
    return (await listUsers(db, {}, may10)).find((user) => user.name === name)!
  }

  it('writes daily rows, running totals and the baseline; unmanaged names apart', async () => {
    await recordPull(db, node, snapshot({[up('alice')]: 100, [down('alice')]: 1000}), may10.now, may10)
    const record = await recordPull(
      db,
      node,
      snapshot({[up('alice')]: 150, [down('alice')]: 3000, [down('mallory')]: 77}),
      may10.now + 60_000,
      may10,
    )
    assert.deepEqual([record.users, record.unmanaged, record.up, record.down], [1, 1, 50, 2077])
    const alice = await usage('alice')
    assert.deepEqual([alice.periodUp, alice.periodDown, alice.totalUsed], [50, 2000, 2050])
    assert.deepEqual(await db.selectFrom('usage_daily').selectAll().execute(), [
      {day: '2024-05-10', node_name: 'n1', user_name: 'alice', up: 50, down: 2000, raw_up: 50, raw_down: 2000},
    ])
    assert.deepEqual(await db.selectFrom('unmanaged_usage_daily').selectAll().execute(), [
      {day: '2024-05-10', node_name: 'n1', name: 'mallory', up: 0, down: 77},
    ])
    assert.equal((await readBaseline(db, node.id))!.counters.get(down('alice')), 3000)
  })

  it('rolls many users into their own new periods at once: each group by its stored period and rule', async () => {
    const names = Array.from({length: 1200}, (_, index) => `u${index}`)
    const rules = [
      {every: 'month', day: 1},
      {every: 'week', weekday: 1},
      {every: 'month', day: 15},
    ] as const
    for (const [index, name] of names.entries()) await addUser(db, {name, reset: rules[index % 3]}, may10)
    await recordPull(db, node, snapshot(Object.fromEntries(names.map((name) => [down(name), 10]))), may10.now, may10)
    await recordPull(
      db,
      node,
      snapshot(Object.fromEntries(names.map((name) => [down(name), 30]))),
      may10.now + 1,
      may10,
    )
    const june20 = contextAt('2024-06-20T12:00:00Z')
    await recordPull(db, node, snapshot(Object.fromEntries(names.map((name) => [down(name), 35]))), june20.now, june20)
    const users = new Map((await listUsers(db, {}, june20)).map((user) => [user.name, user]))
    const expected = [
      ['2024-06-01T00:00:00.000Z', '2024-07-01T00:00:00.000Z'],
      ['2024-06-17T00:00:00.000Z', '2024-06-24T00:00:00.000Z'],
      ['2024-06-15T00:00:00.000Z', '2024-07-15T00:00:00.000Z'],
    ]
    for (const [index, name] of names.entries()) {
      const user = users.get(name)!
      assert.deepEqual(
        [user.periodStart, user.periodEnd, user.periodDown, user.totalDown],
        [...expected[index % 3]!, 5, 25],
        name,
      )
    }
  })

  it("neither bills nor reports the counters of sbq's locked placeholder user", async () => {
    await recordPull(db, node, snapshot({[down('alice')]: 0}), may10.now, may10)
    const record = await recordPull(
      db,
      node,
      snapshot({[down('alice')]: 10, [up('sbq~locked')]: 5, [down('sbq~locked')]: 700}),
      may10.now + 60_000,
      may10,
    )
    assert.deepEqual([record.users, record.unmanaged, record.up, record.down], [1, 0, 0, 10])
    assert.deepEqual(await db.selectFrom('unmanaged_usage_daily').selectAll().execute(), [])
  })

  it('starts a new period at the rollover, keeping lifetime totals', async () => {
    await recordPull(db, node, snapshot({[down('alice')]: 0}), may10.now, may10)
    await recordPull(db, node, snapshot({[down('alice')]: 1000}), may10.now + 1000, may10)
    const june = contextAt('2024-06-01T00:30:00Z')
    await recordPull(db, node, snapshot({[down('alice')]: 1500}), june.now, june)
    const alice = (await listUsers(db, {}, june))[0]!
    assert.deepEqual([alice.periodStart, alice.periodDown, alice.totalDown], ['2024-06-01T00:00:00.000Z', 500, 1500])
  })

  it('a clock set back wipes nobody: traffic goes into the stored period, idle users keep theirs', async () => {
    await addUser(db, {name: 'bob', reset: {every: 'month', day: 1}}, may10)
    await recordPull(db, node, snapshot({[down('alice')]: 0, [down('bob')]: 0}), may10.now, may10)
    await recordPull(db, node, snapshot({[down('alice')]: 100, [down('bob')]: 900}), may10.now + 1000, may10)
    const april = contextAt('2024-04-20T12:00:00Z')
    await recordPull(db, node, snapshot({[down('alice')]: 150, [down('bob')]: 900}), may10.now + 2000, april)
    const users = await db
      .selectFrom('user_usage')
      .innerJoin('users', 'users.id', 'user_usage.user_id')
      .select(['users.name', 'period_start', 'period_down', 'total_down'])
      .orderBy('users.name')
      .execute()
    assert.deepEqual(
      users.map((row) => [row.name, new Date(row.period_start).toISOString(), row.period_down, row.total_down]),
      [
        ['alice', '2024-05-01T00:00:00.000Z', 150, 150],
        ['bob', '2024-05-01T00:00:00.000Z', 900, 900],
      ],
    )
  })

  it('a write that fails leaves the ledger and the baseline as they were, so the next pull counts the bytes once', async () => {
    await recordPull(db, node, snapshot({[down('alice')]: 100}), may10.now, may10)
    await failUsageWrites(db)
    await assert.rejects(recordPull(db, node, snapshot({[down('alice')]: 600}), may10.now + 1000, may10), /disk full/)
    assert.equal((await readBaseline(db, node.id))!.counters.get(down('alice')), 100)
    assert.deepEqual(await db.selectFrom('usage_daily').selectAll().execute(), [])
    await sql`drop trigger fail_usage on user_usage`.execute(db).catch(() => sql`drop trigger fail_usage`.execute(db))
    await recordPull(db, node, snapshot({[down('alice')]: 900}), may10.now + 2000, may10)
    assert.equal((await usage('alice')).periodDown, 800)
  })

  it('bills everything after a restart and rebases on the new values', async () => {
    await recordPull(db, node, snapshot({[down('alice')]: 5000}, 100), may10.now, may10)
    await recordPull(db, node, snapshot({[down('alice')]: 300}, 5), may10.now + 60_000, may10)
    await recordPull(db, node, snapshot({[down('alice')]: 400}, 65), may10.now + 120_000, may10)
    assert.equal((await usage('alice')).periodDown, 400)
  })

  it('handles thousands of users in one pull (batched writes)', async () => {
    const counters: Record<string, number> = {}
    for (let index = 0; index < 1200; index++) {
      if (index > 0) await addUser(db, {name: `u${index}`}, may10)
      counters[down(index === 0 ? 'alice' : `u${index}`)] = 0
    }
    await recordPull(db, node, snapshot(counters), may10.now, may10)
    for (const name of Object.keys(counters)) counters[name] = 1234
    const record = await recordPull(db, node, snapshot(counters), may10.now + 1000, may10)
    assert.equal(record.users, 1200)
    const rows = await db
      .selectFrom('usage_daily')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('down').as('total')])
      .executeTakeFirstOrThrow()
    assert.deepEqual([Number(rows.n), Number(rows.total)], [1200, 1200 * 1234])
  })
})

/** A failing disk, as each dialect can stage one: a trigger that aborts every update of the running totals. */
async function failUsageWrites(db: Db): Promise<void> {
  if (testDialect === 'postgres') {
    await sql`create function fail_usage() returns trigger language plpgsql as $$ begin raise exception 'disk full'; end $$`.execute(
      db,
    )
    await sql`create trigger fail_usage before update on user_usage for each row execute function fail_usage()`.execute(
      db,
    )
    return
  }
  await sql`create trigger fail_usage before update on user_usage begin select raise(abort, 'disk full'); end`.execute(
    db,
  )
}
