import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {readFile, writeFile} from 'node:fs/promises'
import {test} from 'node:test'

import {startLab, v2ctlAvailable, v2rayAvailable} from '../../scripts/lab/v2ray-lab.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'

interface ServerConfig {
  inbounds: Array<{
    tag: string
    protocol: string
    port?: number
    listen?: string
    settings?: {clients?: Array<{id: string; email: string; alterId?: number}>}
  }>
}

/** `v2ray -test` on the file as it is: whether the node would come back after a restart, and what it says if not. */
function v2rayTest(path: string): {ok: boolean; output: string} {
  const run = spawnSync('v2ray', ['-test', '-config', path], {encoding: 'utf8', timeout: 30_000})
  return {ok: run.status === 0, output: `${run.stdout}${run.stderr}`}
}

// V2Ray lower-cases emails before comparing them (v2fly/v2ray-core proxy/vmess/inbound/inbound.go, userByEmail), so a
// config naming "alice" and "ALICE" fails `v2ray -test` with "User ALICE already exists." and V2Ray will not start.
test(
  'real V2Ray: sbq never writes two names that differ only in case, and never reports success when v2ray -test refuses',
  {timeout: 120_000},
  async (t) => {
    if (!v2rayAvailable() || !v2ctlAvailable()) {
      if (process.env.CI !== undefined) assert.fail('v2ray is not installed, and CI must run the real-proxy test')
      t.skip('v2ray not installed')
      return
    }
    const workspace = tempWorkspace('sbq-v2ray-names-')
    const alice = {name: 'alice', uuid: randomUUID()}
    // Bob is in the proxy's config but not in sbq: an unmanaged user sbq must leave alone.
    const unmanagedBob = {name: 'Bob', uuid: randomUUID()}
    const lab = await startLab({dir: workspace.dir, users: [alice, unmanagedBob]})
    t.after(async () => {
      await lab.stop()
      workspace.cleanup()
    })
    const sbq = (...args: string[]) =>
      runSbq([...args, '--json'], {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
    const ok = async (...args: string[]) => {
      const result = await sbq(...args)
      assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
      return result.json
    }
    const emails = async () => {
      const config = JSON.parse(await readFile(lab.serverConfigPath, 'utf8')) as ServerConfig
      return config.inbounds
        .find((inbound) => inbound.tag === lab.vmessInboundTag)!
        .settings!.clients!.map((client) => client.email)
    }

    await ok('user', 'add', 'alice', '--uuid', alice.uuid, '--no-apply')
    await ok(
      'node',
      'add',
      'lab',
      '--type',
      'v2ray',
      '--api',
      lab.apiAddress,
      '--config',
      lab.serverConfigPath,
      '--inbound',
      lab.vmessInboundTag,
      '--apply',
      'exit 0',
    )
    assert.equal((await ok('node', 'sync', 'lab'))[0].error, null)

    await t.test('user add ALICE, with alice there, is refused: nothing reaches the node', async () => {
      const clash = await sbq('user', 'add', 'ALICE')
      assert.equal(clash.code, 3, clash.stdout)
      assert.deepEqual([clash.code, clash.json.error.code], [3, 'USER_NAME_CLASH'])
      assert.match(clash.json.error.message, /^user "ALICE" clashes with the existing user "alice"/)
      assert.deepEqual(await emails(), ['Bob', 'alice'])
    })

    await t.test(
      'a managed bob next to the unmanaged Bob: node sync fails (exit 4) and leaves the config as it was',
      async () => {
        const before = await readFile(lab.serverConfigPath, 'utf8')
        const added = await ok('user', 'add', 'bob')
        assert.equal(added.nodes[0].applied, false)
        assert.match(added.nodes[0].error, /would hold "Bob" and "bob", which v2ray takes for one user/)
        const sync = await sbq('node', 'sync', 'lab')
        assert.equal(sync.code, 4, sync.stderr)
        assert.deepEqual([sync.json[0].applied, sync.json[0].method], [false, 'none'])
        assert.match(sync.json[0].error, /"Bob" and "bob"/)
        assert.match(
          sync.stderr,
          /^error: node "lab": inbound "vmess-in" in v2ray config ".*" would hold "Bob" and "bob", which v2ray takes for one user \(rename or remove "Bob" in the config, or remove the user: sbq user remove bob; sbq did not change it; the next check retries it\)$/m,
        )
        assert.equal(await readFile(lab.serverConfigPath, 'utf8'), before)
        await ok('user', 'remove', 'bob')
      },
    )

    await t.test(
      'when v2ray -test refuses the new config, the change is an error of the node, with what v2ray said',
      async () => {
        // An operator's edit elsewhere in the file that V2Ray refuses: a second inbound sbq does not manage, with two
        // spellings of one email. sbq only rewrites vmess-in, so only the proxy's own check can catch it.
        const config = JSON.parse(await readFile(lab.serverConfigPath, 'utf8')) as ServerConfig
        config.inbounds.push({
          tag: 'by-hand',
          listen: '127.0.0.1',
          port: 1,
          protocol: 'vmess',
          settings: {
            clients: [
              {id: randomUUID(), email: 'carol', alterId: 0},
              {id: randomUUID(), email: 'Carol', alterId: 0},
            ],
          },
        })
        const broken = `${JSON.stringify(config, null, 2)}\n`
        await writeFile(lab.serverConfigPath, broken)
        await ok('config', 'set', 'validate-config', 'always')
        const limited = await sbq('user', 'disable', 'alice')
        assert.equal(limited.code, 0, limited.stderr)
        assert.equal(limited.json.nodes[0].applied, false)
        const sync = await sbq('node', 'sync', 'lab')
        assert.equal(sync.code, 4, sync.stderr)
        assert.equal(sync.json[0].applied, false)
        assert.match(
          sync.json[0].error,
          /refused by ".*v2ray -test -config", which failed: ".*User Carol already exists\."/,
        )
        assert.equal(await readFile(lab.serverConfigPath, 'utf8'), broken, 'the file is as the operator left it')
        config.inbounds.pop()
        await writeFile(lab.serverConfigPath, `${JSON.stringify(config, null, 2)}\n`)
        const fixed = await ok('node', 'sync', 'lab')
        assert.deepEqual([fixed[0].applied, fixed[0].error], [true, null])
        assert.deepEqual(await emails(), ['Bob'])
      },
    )

    await t.test('the config sbq leaves passes v2ray -test, and V2Ray restarts from it', async () => {
      const checked = v2rayTest(lab.serverConfigPath)
      assert.ok(checked.ok, checked.output)
      await lab.restartServer()
      assert.equal(await lab.download('Bob', 64 * 1024), 64 * 1024, 'the unmanaged user still works')
    })
  },
)
