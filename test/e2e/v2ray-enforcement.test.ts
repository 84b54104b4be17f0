import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {readFile} from 'node:fs/promises'
import {test} from 'node:test'

import {DownloadRefusedError, startLab, v2ctlAvailable, v2rayAvailable} from '../../scripts/lab/v2ray-lab.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'

const MiB = 1024 * 1024

test(
  'sbq check cuts a user over quota off a real V2Ray live, and lets them back after a reset and a new period',
  {timeout: 180_000},
  async (t) => {
    if (!v2rayAvailable() || !v2ctlAvailable()) {
      if (process.env.CI !== undefined) assert.fail('v2ray is not installed, and CI must run the real-proxy test')
      t.skip('v2ray not installed')
      return
    }
    const workspace = tempWorkspace('sbq-v2ray-check-')
    const alice = {name: 'alice', uuid: randomUUID()}
    const bob = {name: 'bob', uuid: randomUUID()}
    const lab = await startLab({dir: workspace.dir, users: [alice, bob]})
    t.after(async () => {
      await lab.stop()
      workspace.cleanup()
    })
    const may = {SBQ_NOW: '2024-05-20T12:00:00Z'}
    const sbq = async (env: NodeJS.ProcessEnv, ...args: string[]) => {
      const result = await runSbq([...args, '--json'], {db: workspace.db, env})
      assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
      return result.json
    }
    const clientsInConfig = async () => {
      const config = JSON.parse(await readFile(lab.serverConfigPath, 'utf8')) as {
        inbounds: Array<{tag: string; settings?: {clients?: Array<{email: string}>}}>
      }
      return config.inbounds
        .find((inbound) => inbound.tag === lab.vmessInboundTag)!
        .settings!.clients!.map((client) => client.email)
        .sort()
    }

    await sbq(may, 'config', 'set', 'timezone', 'UTC')
    await sbq(may, 'user', 'add', 'alice', '--uuid', alice.uuid, '--monthly', '1M', '--no-apply')
    await sbq(may, 'user', 'add', 'bob', '--uuid', bob.uuid, '--monthly', '100M', '--no-apply')
    await sbq(
      may,
      'node',
      'add',
      'lab',
      '--type',
      'v2ray',
      '--api',
      lab.apiAddress,
      '--config',
      lab.serverConfigPath,
      '--apply',
      'exit 0',
    )
    const first = await sbq(may, 'check')
    assert.deepEqual(first.changes, [])
    assert.equal(first.nodes[0].error, null)
    const serverPid = lab.serverPid

    await lab.download('alice', 2 * MiB)
    await lab.download('bob', 1 * MiB)
    const check = await sbq(may, 'check')
    assert.deepEqual(
      check.changes.map((change: {user: string; from: string; to: string}) => [change.user, change.from, change.to]),
      [['alice', 'active', 'limited']],
    )
    assert.deepEqual([check.nodes[0].method, check.nodes[0].removed, check.nodes[0].error], ['live', ['alice'], null])

    await assert.rejects(lab.download('alice', 64 * 1024), DownloadRefusedError, 'alice is cut off')
    assert.equal(await lab.download('bob', 1 * MiB), 1 * MiB, 'bob still works')
    assert.deepEqual(await clientsInConfig(), ['bob'], 'the config no longer lists alice')
    assert.equal(lab.serverPid, serverPid, 'V2Ray was not restarted')

    const quiet = await runSbq(['check'], {db: workspace.db, env: may})
    assert.deepEqual([quiet.code, quiet.stdout, quiet.stderr], [0, '', ''], 'nothing changed: cron mails nothing')

    const reset = await sbq(may, 'reset', 'alice')
    assert.deepEqual(
      reset.changes.map((change: {to: string}) => change.to),
      ['active'],
    )
    assert.deepEqual(reset.nodes[0].added, ['alice'])
    assert.equal(await lab.download('alice', 512 * 1024), 512 * 1024, 'alice works again after the reset')
    assert.deepEqual(await clientsInConfig(), ['alice', 'bob'])

    await lab.download('alice', 1 * MiB)
    const limitedAgain = await sbq(may, 'check')
    assert.deepEqual(
      limitedAgain.changes.map((change: {to: string}) => change.to),
      ['limited'],
    )
    await assert.rejects(lab.download('alice', 64 * 1024), DownloadRefusedError)

    const june = {SBQ_NOW: '2024-06-01T00:05:00Z'}
    const rolled = await sbq(june, 'check')
    assert.deepEqual(
      rolled.changes.map((change: {user: string; to: string}) => [change.user, change.to]),
      [['alice', 'active']],
    )
    assert.equal(await lab.download('alice', 256 * 1024), 256 * 1024, 'the new period re-enabled alice without a reset')
    assert.equal(lab.serverPid, serverPid, 'still no restart')
    const shown = await sbq(june, 'user', 'show', 'alice')
    assert.deepEqual(
      shown.events
        .slice(0, 3)
        .map((event: {kind: string; to: string; actor: string}) => `${event.kind}:${event.to}:${event.actor}`),
      ['status:active:check', 'status:limited:check', 'status:active:cli'],
    )
  },
)
