import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {test} from 'node:test'

import {startLab, v2ctlAvailable, v2rayAvailable} from '../../scripts/lab/v2ray-lab.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'

const MiB = 1024 * 1024

interface Ledger {
  [name: string]: {up: number; down: number}
}

test(
  "stats pull from a real V2Ray: the ledger equals V2Ray's own counters, across a restart",
  {timeout: 120_000},
  async (t) => {
    if (!v2rayAvailable() || !v2ctlAvailable()) {
      if (process.env.CI !== undefined) assert.fail('v2ray is not installed, and CI must run the real-proxy test')
      t.skip('v2ray not installed')
      return
    }
    const workspace = tempWorkspace('sbq-v2ray-pull-')
    const users = [
      {name: 'alice', uuid: randomUUID()},
      {name: 'bob', uuid: randomUUID()},
    ]
    const lab = await startLab({dir: workspace.dir, users})
    t.after(async () => {
      await lab.stop()
      workspace.cleanup()
    })
    const sbq = async (...args: string[]) => {
      const result = await runSbq([...args, '--json'], {db: workspace.db})
      assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
      return result.json
    }
    const ledger = async (): Promise<Ledger> =>
      Object.fromEntries(
        (await sbq('user', 'list')).map((user: {name: string; totalUp: number; totalDown: number}) => [
          user.name,
          {up: user.totalUp, down: user.totalDown},
        ]),
      )
    const v2rayCounters = async (): Promise<Ledger> => {
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

    for (const user of users) await sbq('user', 'add', user.name, '--uuid', user.uuid)
    await sbq('node', 'add', 'lab', '--type', 'v2ray', '--api', lab.apiAddress, '--config', lab.serverConfigPath)
    const tested = await sbq('node', 'test', 'lab')
    assert.equal(tested.liveUserChanges, true)
    const baseline = await sbq('stats', 'pull')
    assert.equal(baseline.nodes[0].baseline, true)

    await lab.download('alice', 1 * MiB)
    await lab.download('bob', 3 * MiB)
    const pulled = await sbq('stats', 'pull')
    assert.deepEqual([pulled.nodes[0].ok, pulled.nodes[0].users], [true, 2])
    const beforeRestart = await v2rayCounters()
    assert.deepEqual(await ledger(), beforeRestart)
    assert.ok(beforeRestart.alice!.down >= 1 * MiB && beforeRestart.bob!.down >= 3 * MiB)

    await lab.restartServer()
    await lab.download('alice', 2 * MiB)
    const afterRestart = await v2rayCounters()
    assert.ok(
      afterRestart.alice!.down < beforeRestart.alice!.down + 2 * MiB,
      "the restart must have zeroed V2Ray's counters",
    )
    const repulled = await sbq('stats', 'pull')
    assert.equal(repulled.nodes[0].restarted, true)
    const total = await ledger()
    assert.deepEqual(total.alice, {
      up: beforeRestart.alice!.up + afterRestart.alice!.up,
      down: beforeRestart.alice!.down + afterRestart.alice!.down,
    })
    assert.deepEqual(total.bob, beforeRestart.bob)
    assert.ok(total.alice!.down >= 3 * MiB)

    const again = await sbq('stats', 'pull')
    assert.deepEqual([again.nodes[0].up, again.nodes[0].down, again.nodes[0].restarted], [0, 0, false])
    assert.deepEqual(await ledger(), total)
  },
)
