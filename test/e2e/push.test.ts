import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import BetterSqlite3 from 'better-sqlite3'

import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'
import {startServe, type RunningServe} from '../support/run-serve.js'
import {psql, testDialect} from '../support/test-database.js'

interface Totals {
  [name: string]: {up: number; down: number}
}

describe('push: an edge sbq pulls a V2Ray node and pushes to a central sbq serve (two databases, real bin/sbq)', () => {
  const central = tempWorkspace('sbq-push-central-')
  const edge = tempWorkspace('sbq-push-edge-')
  const env = {SBQ_NOW: '2024-05-20T12:00:00Z'}
  const run = async (db: string, ...args: string[]) => {
    const result = await runSbq([...args, '--json'], {db, env})
    assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
    return result.json
  }
  const totals = async (db: string): Promise<Totals> =>
    Object.fromEntries(
      ((await run(db, 'user', 'list')) as Array<{name: string; totalUp: number; totalDown: number}>).map((user) => [
        user.name,
        {up: user.totalUp, down: user.totalDown},
      ]),
    )
  const query = (db: string, statement: string) => {
    if (testDialect === 'postgres')
      return statement.trimStart().startsWith('select')
        ? (JSON.parse(psql(db, `select coalesce(jsonb_agg(t), '[]') from (${statement}) t`)) as unknown[])
        : (psql(db, statement), [])
    const sqlite = new BetterSqlite3(db)
    try {
      return statement.trimStart().startsWith('select') ? sqlite.prepare(statement).all() : sqlite.exec(statement) && []
    } finally {
      sqlite.close()
    }
  }
  let stub: StubV2rayApi
  let serve: RunningServe

  before(async () => {
    stub = await StubV2rayApi.start({flavor: 'v2ray'})
    for (const db of [central.db, edge.db]) {
      await run(db, 'config', 'set', 'timezone', 'UTC')
      await run(db, 'user', 'add', 'alice', '--monthly', '1G', '--no-apply')
    }
    serve = await startServe(central.db, env, ['--metrics-public'])
    const {informUri} = await run(central.db, 'node', 'add', 'edge-hk', '--type', '3x-ui', '--public-url', serve.base)
    await run(edge.db, 'node', 'add', 'hk', '--type', 'v2ray', '--api', stub.address, '--inform', informUri)
    const baseline = await run(edge.db, 'stats', 'pull')
    assert.deepEqual([baseline.nodes[0].baseline, baseline.nodes[0].push], [true, {sent: 0, queued: 0, error: null}])
  })

  after(async () => {
    await serve?.stop()
    await stub.close()
    central.cleanup()
    edge.cleanup()
  })

  it('a pull is pushed after its commit, and the central ledger equals the edge ledger', async () => {
    stub.addTraffic('alice', 100, 1000)
    stub.addTraffic('walk-in', 5, 50)
    const pulled = await run(edge.db, 'stats', 'pull')
    assert.deepEqual(pulled.nodes[0].push, {sent: 1, queued: 0, error: null})
    assert.deepEqual(await totals(central.db), {alice: {up: 100, down: 1000}})
    assert.deepEqual(await totals(central.db), await totals(edge.db))
    assert.deepEqual(query(central.db, 'select node_name, name, up, down from unmanaged_usage_daily'), [
      {node_name: 'edge-hk', name: 'walk-in', up: 5, down: 50},
    ])
  })

  it('while the receiver is down, pushes queue with the ledger; once back, each is delivered once, in order', async () => {
    const address = serve.base.replace('http://', '')
    assert.equal(await serve.stop(), 0)
    for (const bytes of [200, 300]) {
      stub.addTraffic('alice', bytes, bytes * 10)
      const pulled = await runSbq(['stats', 'pull', '--json'], {db: edge.db, env})
      assert.equal(pulled.code, 0, 'a receiver that is down is not a failed pull')
      assert.equal(pulled.json.nodes[0].ok, true)
      assert.match(pulled.json.nodes[0].push.error, /receiver unreachable/)
    }
    const idle = await run(edge.db, 'stats', 'pull')
    assert.equal(idle.nodes[0].push.queued, 2, 'a pull with no traffic queues nothing new')
    assert.deepEqual((await totals(edge.db)).alice, {up: 600, down: 6000})
    assert.deepEqual((await totals(central.db)).alice, {up: 100, down: 1000})

    serve = await startServe(central.db, env, ['--metrics-public'], address)
    stub.addTraffic('alice', 1, 1)
    const delivered = await run(edge.db, 'stats', 'pull')
    assert.deepEqual(delivered.nodes[0].push, {sent: 3, queued: 0, error: null})
    assert.deepEqual((await totals(central.db)).alice, {up: 601, down: 6001})
    assert.deepEqual(await totals(central.db), await totals(edge.db))
    const metrics = await (await fetch(`${serve.base}/metrics`)).text()
    assert.match(metrics, /^sbq_node_bytes_total\{node="edge-hk",direction="down"\} 6051$/m)
  })

  it('a push re-sent after its acknowledgement was lost (a crash before the delete) counts once', async () => {
    // What a crash between the 2xx and the delete leaves behind: the delivered row, still queued.
    query(
      edge.db,
      testDialect === 'postgres'
        ? `create table delivered_pushes as select * from inform_outbox where false; create function keep_delivered() returns trigger language plpgsql as $$ begin insert into delivered_pushes select old.*; return old; end $$; create trigger keep_delivered after delete on inform_outbox for each row execute function keep_delivered()`
        : 'create table delivered_pushes as select * from inform_outbox where 0; create trigger keep_delivered after delete on inform_outbox begin insert into delivered_pushes values (old.id, old.node_id, old.request_id, old.body, old.created_at, old.attempts, old.last_error); end',
    )
    stub.addTraffic('alice', 1000, 1000)
    assert.deepEqual((await run(edge.db, 'stats', 'pull')).nodes[0].push, {sent: 1, queued: 0, error: null})
    query(
      edge.db,
      `drop trigger keep_delivered${testDialect === 'postgres' ? ' on inform_outbox' : ''}; insert into inform_outbox select * from delivered_pushes; drop table delivered_pushes`,
    )
    const before = await totals(central.db)
    assert.deepEqual((await run(edge.db, 'stats', 'pull')).nodes[0].push, {sent: 1, queued: 0, error: null})
    assert.deepEqual(await totals(central.db), before)
    assert.deepEqual(await totals(central.db), await totals(edge.db))
  })
})
