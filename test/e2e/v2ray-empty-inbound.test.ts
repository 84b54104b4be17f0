/**
 * Issue 14, item 1 against the real V2Ray 4.34: when the last user of a managed inbound is limited, sbq leaves the
 * locked placeholder in it, in the config (which `v2ray -test` accepts and a restart loads) and live, through
 * HandlerService; the limited user is refused; the placeholder's traffic is neither billed nor reported, and its
 * secret is never printed. A real user back removes the placeholder, live too.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {test} from 'node:test'

import {freeLoopbackPorts, LOOPBACK} from '../../scripts/lab/loopback-ports.js'
import {socksHttpDownload} from '../../scripts/lab/socks-download.js'
import {clientConfig} from '../../scripts/lab/v2ray-lab-configs.js'
import {
  DownloadRefusedError,
  startLab,
  v2ctlAvailable,
  v2rayAvailable,
  type V2rayLab,
} from '../../scripts/lab/v2ray-lab.js'
import {startV2ray} from '../../scripts/lab/v2ray-process.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'

const MiB = 1024 * 1024
const placeholderName = 'sbq~locked'

interface VmessClient {
  id: string
  email: string
  alterId?: number
}

async function vmessClients(lab: V2rayLab): Promise<VmessClient[]> {
  const config = JSON.parse(await readFile(lab.serverConfigPath, 'utf8')) as {
    inbounds: Array<{tag: string; settings?: {clients?: VmessClient[]}}>
  }
  return config.inbounds.find((inbound) => inbound.tag === lab.vmessInboundTag)!.settings!.clients!
}

/** A second V2Ray client that connects as the given vmess id: the only way to see who a live inbound lets in. */
async function downloadAs(lab: V2rayLab, id: string, bytes: number): Promise<number> {
  const [socksPort] = await freeLoopbackPorts(1)
  const path = join(lab.dir, `as-${id}.json`)
  const user = {name: 'probe', uuid: id}
  await writeFile(
    path,
    JSON.stringify(clientConfig({vmessPort: lab.vmessPort, users: [{user, socksPort: socksPort!}]})),
  )
  const client = await startV2ray(path)
  try {
    return await socksHttpDownload({
      socksPort: socksPort!,
      host: LOOPBACK,
      port: lab.httpPort,
      path: `/bytes/${bytes}`,
      idleTimeoutMs: 4000,
      totalTimeoutMs: 20_000,
    })
  } finally {
    await client.stop()
  }
}

test(
  'the last user limited on a real V2Ray leaves the locked placeholder in the config and live, never an empty inbound',
  {timeout: 180_000},
  async (t) => {
    if (!v2rayAvailable() || !v2ctlAvailable()) {
      if (process.env.CI !== undefined) assert.fail('v2ray is not installed, and CI must run the real-proxy test')
      t.skip('v2ray not installed')
      return
    }
    const workspace = tempWorkspace('sbq-v2ray-empty-')
    const alice = {name: 'alice', uuid: randomUUID()}
    const lab = await startLab({dir: workspace.dir, users: [alice]})
    t.after(async () => {
      await lab.stop()
      workspace.cleanup()
    })
    const env = {SBQ_NOW: '2024-05-20T12:00:00Z'}
    const outputs: string[] = []
    const sbq = async (...args: string[]) => {
      const result = await runSbq([...args, '--json'], {db: workspace.db, env})
      outputs.push(result.stdout, result.stderr)
      assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
      return result.json
    }

    await sbq('config', 'set', 'timezone', 'UTC')
    await sbq('user', 'add', 'alice', '--uuid', alice.uuid, '--monthly', '1M', '--no-apply')
    await sbq(
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
    await sbq('check')
    const serverPid = lab.serverPid

    await lab.download('alice', 2 * MiB)
    const limited = await sbq('check')
    assert.deepEqual(
      limited.changes.map((change: {user: string; to: string}) => [change.user, change.to]),
      [['alice', 'limited']],
    )
    assert.deepEqual(
      [limited.nodes[0].method, limited.nodes[0].removed, limited.nodes[0].error],
      ['live', ['alice'], null],
    )

    const [placeholder, ...others] = await vmessClients(lab)
    assert.deepEqual(others, [], 'one placeholder, nothing else')
    assert.equal(placeholder?.email, placeholderName)
    const check = spawnSync('v2ray', ['-test', '-config', lab.serverConfigPath], {encoding: 'utf8'})
    assert.equal(check.status, 0, check.stdout + check.stderr)

    await assert.rejects(lab.download('alice', 64 * 1024), DownloadRefusedError, 'alice is cut off')
    assert.equal(
      await downloadAs(lab, placeholder.id, 64 * 1024),
      64 * 1024,
      'the running V2Ray holds the placeholder, added live',
    )
    assert.equal(lab.serverPid, serverPid, 'V2Ray was not restarted')

    // The placeholder now has counters in V2Ray; a pull must neither bill nor report them.
    const pulled = await sbq('check')
    assert.deepEqual([pulled.pulls[0].ok, pulled.pulls[0].users, pulled.pulls[0].unmanaged], [true, 0, 0])
    const report = await sbq('report')
    assert.equal(report.unmanaged.names, 0)

    await sbq('reset', 'alice')
    assert.deepEqual(
      (await vmessClients(lab)).map((client) => client.email),
      ['alice'],
    )
    assert.equal(await lab.download('alice', 256 * 1024), 256 * 1024, 'alice is back')
    await assert.rejects(
      downloadAs(lab, placeholder.id, 64 * 1024),
      DownloadRefusedError,
      'the placeholder was removed live',
    )

    await sbq('user', 'disable', 'alice')
    const [again] = await vmessClients(lab)
    assert.equal(again?.email, placeholderName)
    assert.notEqual(again?.id, placeholder.id, 'a new placeholder gets a new secret')
    await lab.restartServer()
    await assert.rejects(
      lab.download('alice', 64 * 1024),
      DownloadRefusedError,
      'after a restart from the config, alice is still refused',
    )

    await sbq('node', 'show', 'lab')
    await sbq('user', 'list')
    for (const secret of [placeholder.id, again!.id])
      assert.ok(!outputs.some((output) => output.includes(secret)), 'sbq never prints the placeholder secret')
    assert.ok(!outputs.some((output) => output.includes(placeholderName)), 'nor names the placeholder as a user')
  },
)
