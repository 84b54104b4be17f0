import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {after, before, describe, it} from 'node:test'

import {openDatabase, type Db} from '../../src/lib/db/open-database.js'
import {insertNode} from '../../src/lib/db/nodes-repository.js'
import {addUser} from '../../src/lib/users/user-service.js'
import {sbqBin} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

const managed = 1500
const unmanaged = 50
const kills = 24

/** Starts `sbq stats pull` and SIGKILLs it after `delayMs`, whatever it is doing then. */
function pullAndKill(db: string, delayMs: number): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      sbqBin,
      ['stats', 'pull', '--json'],
      {env: {...process.env, SBQ_DB: db, NO_COLOR: '1'}},
      (_error, stdout) => {
        resolve(stdout.length > 0 ? 'finished' : 'killed')
      },
    )
    setTimeout(() => child.kill('SIGKILL'), delayMs)
  })
}

describe('stats pull survives SIGKILL at any moment', () => {
  const workspace = tempWorkspace('sbq-crash-')
  let stub: StubV2rayApi
  let db: Db

  before(async () => {
    stub = await StubV2rayApi.start({flavor: 'v2ray', users: managed + unmanaged})
    db = await openDatabase(workspace.db)
    const context = {now: Date.now(), timeZone: 'UTC', actor: 'cli' as const}
    for (let index = 1; index <= managed; index++) await addUser(db, {name: `user${index}`}, context)
    await insertNode(db, {
      name: 'stub',
      type: 'v2ray',
      api: stub.address,
      config_path: null,
      inbounds: null,
      apply_command: null,
      created_at: context.now,
      last_pull_at: null,
      last_error: null,
    })
    await db.destroy()
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('neither loses nor double-counts a byte', async () => {
    const first = await runSbq(['stats', 'pull', '--json'], {db: workspace.db})
    assert.equal(first.code, 0, first.stderr)
    assert.equal(first.json.nodes[0].baseline, true)
    const start = new Map([...stub.counterValues()].map(([name, value]) => [name, Number(value)]))

    // Traffic keeps arriving while pulls are started and killed at random points of their run.
    const grow = setInterval(() => {
      for (let step = 0; step < 40; step++) {
        const index = 1 + Math.floor(Math.random() * (managed + unmanaged))
        stub.addTraffic(`user${index}`, Math.floor(Math.random() * 5000), Math.floor(Math.random() * 50_000))
      }
    }, 5)
    const outcomes: string[] = []
    try {
      // Kill points spread evenly from start-up (50 ms) to past a whole pull (about 1 s), with jitter, so some pulls are
      // killed on a fast machine too: random points over 200-1100 ms all missed a pull that finished in under 200 ms.
      for (let round = 0; round < kills; round++)
        outcomes.push(await pullAndKill(workspace.db, 50 + (round % 12) * 90 + Math.floor(Math.random() * 40)))
    } finally {
      clearInterval(grow)
    }
    assert.ok(outcomes.includes('killed'), `some pulls must have been killed: ${outcomes.join(',')}`)

    const last = await runSbq(['stats', 'pull', '--json'], {db: workspace.db})
    assert.equal(last.code, 0, last.stderr)

    const check = await openDatabase(workspace.db)
    try {
      const totals = await check
        .selectFrom('users')
        .innerJoin('user_usage', 'user_usage.user_id', 'users.id')
        .select(['users.name', 'user_usage.total_up', 'user_usage.total_down'])
        .execute()
      const daily = new Map(
        (
          await check
            .selectFrom('usage_daily')
            .select('user_name')
            .select((eb) => [eb.fn.sum<number>('up').as('up'), eb.fn.sum<number>('down').as('down')])
            .groupBy('user_name')
            .execute()
        ).map((row) => [row.user_name, {up: Number(row.up), down: Number(row.down)}]),
      )
      const grown = (name: string, direction: 'uplink' | 'downlink') => {
        const counter = `user>>>${name}>>>traffic>>>${direction}`
        return Number(stub.counter(counter)) - start.get(counter)!
      }
      let moved = 0
      for (const row of totals) {
        const expected = {up: grown(row.name, 'uplink'), down: grown(row.name, 'downlink')}
        moved += expected.up + expected.down
        assert.deepEqual({up: row.total_up, down: row.total_down}, expected, `running total of ${row.name}`)
        assert.deepEqual(daily.get(row.name) ?? {up: 0, down: 0}, expected, `daily rows of ${row.name}`)
      }
      assert.ok(moved > 0, 'traffic must have moved during the test')
      const strays = await check
        .selectFrom('unmanaged_usage_daily')
        .select('name')
        .select((eb) => eb.fn.sum<number>('down').as('down'))
        .groupBy('name')
        .execute()
      for (const row of strays) assert.equal(Number(row.down), grown(row.name, 'downlink'), `unmanaged ${row.name}`)
    } finally {
      await check.destroy()
    }
  })
})
