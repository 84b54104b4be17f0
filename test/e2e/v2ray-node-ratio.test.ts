import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {test} from 'node:test'

import {startLab, v2ctlAvailable, v2rayAvailable} from '../../scripts/lab/v2ray-lab.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'

const MiB = 1024 * 1024

interface Bytes {
  up: number
  down: number
}

const sum = (bytes: Bytes) => bytes.up + bytes.down

test(
  "a node at a ratio bills exactly ratio × V2Ray's own counters, and a ratio change keeps what was billed before",
  {timeout: 120_000},
  async (t) => {
    if (!v2rayAvailable() || !v2ctlAvailable()) {
      if (process.env.CI !== undefined) assert.fail('v2ray is not installed, and CI must run the real-proxy test')
      t.skip('v2ray not installed')
      return
    }
    const workspace = tempWorkspace('sbq-v2ray-ratio-')
    const users = [
      {name: 'alice', uuid: randomUUID()},
      {name: 'bob', uuid: randomUUID()},
    ]
    const lab = await startLab({dir: workspace.dir, users})
    t.after(async () => {
      await lab.stop()
      workspace.cleanup()
    })
    // One local day for the whole test, so every byte lands in one ledger row per user (the real clock could cross
    // midnight); restarts are told by the real clock, which SBQ_NOW does not touch.
    const env = {SBQ_NOW: '2026-11-20T12:00:00Z'}
    const run = (...args: string[]) => runSbq(args, {db: workspace.db, env})
    const sbq = async (...args: string[]) => {
      const result = await run(...args, '--json')
      assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
      return result.json
    }
    // Read from V2Ray itself through its API (v2ctl's StatsService.QueryStats), never from sbq.
    const v2rayCounters = async (): Promise<Record<string, Bytes>> => {
      const stats = await lab.queryStats('user>>>')
      return Object.fromEntries(
        users.map(({name}) => [
          name,
          {
            up: stats.get(`user>>>${name}>>>traffic>>>uplink`) ?? 0,
            down: stats.get(`user>>>${name}>>>traffic>>>downlink`) ?? 0,
          },
        ]),
      )
    }
    const since = (now: Bytes, before: Bytes): Bytes => ({up: now.up - before.up, down: now.down - before.down})

    for (const user of users) await sbq('user', 'add', user.name, '--uuid', user.uuid)
    const added = await sbq(
      'node',
      'add',
      'lab',
      '--type',
      'v2ray',
      '--api',
      lab.apiAddress,
      '--config',
      lab.serverConfigPath,
      '--ratio',
      '0.5',
    )
    assert.equal(added.ratio, '0.5')
    assert.equal((await sbq('stats', 'pull')).nodes[0].baseline, true)
    const atBaseline = await v2rayCounters()

    await lab.download('alice', 1 * MiB + 333)
    await lab.download('bob', 2 * MiB + 77)
    const pulled = await sbq('stats', 'pull')
    const first = await v2rayCounters()
    const aliceRaw1 = since(first.alice!, atBaseline.alice!)
    const bobRaw = since(first.bob!, atBaseline.bob!)
    assert.ok(aliceRaw1.down >= 1 * MiB + 333 && bobRaw.down >= 2 * MiB + 77)
    const half = (bytes: Bytes): Bytes => ({up: Math.floor(bytes.up / 2), down: Math.floor(bytes.down / 2)})
    assert.deepEqual(
      [pulled.nodes[0].up, pulled.nodes[0].down, pulled.nodes[0].billedUp, pulled.nodes[0].billedDown],
      [
        aliceRaw1.up + bobRaw.up,
        aliceRaw1.down + bobRaw.down,
        half(aliceRaw1).up + half(bobRaw).up,
        half(aliceRaw1).down + half(bobRaw).down,
      ],
    )
    const alice1 = await sbq('user', 'show', 'alice')
    assert.deepEqual(
      [alice1.periodUp, alice1.periodDown, alice1.raw.periodUp, alice1.raw.periodDown],
      [half(aliceRaw1).up, half(aliceRaw1).down, aliceRaw1.up, aliceRaw1.down],
    )

    // From now on each byte bills two; what was counted at 0.5 stays billed at 0.5.
    assert.equal((await sbq('node', 'set', 'lab', '--ratio', '2')).ratio, '2')
    await lab.download('alice', 1 * MiB + 5)
    await sbq('stats', 'pull')
    const second = await v2rayCounters()
    const aliceRaw2 = since(second.alice!, first.alice!)
    assert.ok(aliceRaw2.down >= 1 * MiB + 5)
    assert.deepEqual(second.bob, first.bob, 'bob moved nothing more')
    const aliceRaw = {up: aliceRaw1.up + aliceRaw2.up, down: aliceRaw1.down + aliceRaw2.down}
    const aliceBilled = {up: half(aliceRaw1).up + 2 * aliceRaw2.up, down: half(aliceRaw1).down + 2 * aliceRaw2.down}
    const bobBilled = half(bobRaw)

    const alice = await sbq('user', 'show', 'alice')
    assert.deepEqual(
      [alice.totalUp, alice.totalDown, alice.raw.totalUp, alice.raw.totalDown],
      [aliceBilled.up, aliceBilled.down, aliceRaw.up, aliceRaw.down],
    )
    assert.equal(
      alice.last30Days.at(-1).total,
      sum(aliceBilled),
      "today's bytes in the sparkline are billed too, as quotas count them",
    )
    assert.equal(alice.last30Days.at(-1).raw.total, sum(aliceRaw))

    const report = await sbq('report')
    const rows = Object.fromEntries(
      report.rows.map((row: {name: string; up: number; down: number; raw: Bytes; periodUsed: number}) => [
        row.name,
        row,
      ]),
    )
    assert.deepEqual(
      [rows.alice.up, rows.alice.down, rows.alice.raw.up, rows.alice.raw.down, rows.alice.periodUsed],
      [aliceBilled.up, aliceBilled.down, aliceRaw.up, aliceRaw.down, sum(aliceBilled)],
    )
    assert.deepEqual(
      [rows.bob.up, rows.bob.down, rows.bob.raw.up, rows.bob.raw.down],
      [...Object.values(bobBilled), bobRaw.up, bobRaw.down],
    )
    assert.deepEqual(report.totals, {
      up: aliceBilled.up + bobBilled.up,
      down: aliceBilled.down + bobBilled.down,
      total: sum(aliceBilled) + sum(bobBilled),
      raw: {up: aliceRaw.up + bobRaw.up, down: aliceRaw.down + bobRaw.down, total: sum(aliceRaw) + sum(bobRaw)},
    })

    const byNode = await sbq('report', '--by', 'node')
    assert.deepEqual(
      byNode.rows.map((row: {name: string; total: number; raw: Bytes & {total: number}}) => [
        row.name,
        row.total,
        row.raw.total,
      ]),
      [['lab', sum(aliceBilled) + sum(bobBilled), sum(aliceRaw) + sum(bobRaw)]],
    )
    const days = await sbq('report', '--user', 'alice')
    assert.deepEqual(days.totals, {...aliceBilled, total: sum(aliceBilled), raw: {...aliceRaw, total: sum(aliceRaw)}})

    // The tables show raw bytes beside billed ones once a node bills at another ratio.
    const table = await run('report', '--by', 'node')
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /│ node +│ users +│ up +│ down +│ total +│ raw +│ unmanaged │/)
    assert.match(table.stdout, /total: billed bytes/)
    const shown = await run('user', 'show', 'alice')
    assert.match(shown.stdout, /raw \(counted\)/)
  },
)
