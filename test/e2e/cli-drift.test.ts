import assert from 'node:assert/strict'
import {copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {assertJsonError} from '../support/assertions.js'
import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

const MiB = 1024 ** 2
const GiB = 1024 ** 3

describe('drift: counted traffic against the host interface (stub Xray API, fake sysfs, real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-drift-')
  const configPath = join(workspace.dir, 'xray.json')
  // A fake /sys whose eth0 counters the test drives, as the kernel would: SBQ_SYSFS_ROOT replaces /sys.
  const sysfs = mkdtempSync(join(tmpdir(), 'sbq-sysfs-'))
  const statistics = join(sysfs, 'class', 'net', 'eth0', 'statistics')
  const interfaceBytes = {rx: 0, tx: 0}
  const setInterface = (rx: number, tx: number) => {
    Object.assign(interfaceBytes, {rx, tx})
    writeFileSync(join(statistics, 'rx_bytes'), `${rx}\n`)
    writeFileSync(join(statistics, 'tx_bytes'), `${tx}\n`)
  }
  /** A proxy relays each byte twice over its interface: in from the client, out to the target. */
  const carry = (bytes: number) => setInterface(interfaceBytes.rx + bytes, interfaceBytes.tx + bytes)
  const sbqAt = (now: string, ...args: string[]) =>
    runSbq(args, {db: workspace.db, env: {SBQ_NOW: now, SBQ_SYSFS_ROOT: sysfs}})
  const may20 = (...args: string[]) => sbqAt('2024-05-20T12:00:00Z', ...args)
  let stub: StubV2rayApi
  const received: Array<{kind: string; user: string | null; node: string | null; text: string}> = []
  const receiver: Server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      received.push(JSON.parse(body))
      response.writeHead(204).end()
    })
  })

  before(async () => {
    mkdirSync(statistics, {recursive: true})
    setInterface(50 * GiB, 60 * GiB)
    copyFileSync(join(fixturesDir, 'xray-config.json'), configPath)
    stub = await StubV2rayApi.start({flavor: 'xray', inboundTags: ['vless-reality']})
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
    for (const args of [
      ['config', 'set', 'timezone', 'UTC'],
      ['user', 'add', 'alice', '--no-apply'],
      ['alert', 'add', 'webhook', hook],
    ]) {
      const result = await may20(...args)
      assert.equal(result.code, 0, result.stderr)
    }
  })

  after(async () => {
    await stub.close()
    receiver.closeAllConnections()
    await new Promise<void>((resolve) => receiver.close(() => resolve()))
    rmSync(sysfs, {recursive: true, force: true})
    workspace.cleanup()
  })

  const addNode = (...extra: string[]) =>
    may20(
      'node',
      'add',
      'x1',
      '--type',
      'xray',
      '--api',
      stub.address,
      '--config',
      configPath,
      '--inbound',
      'vless-reality',
      '--apply',
      'true',
      ...extra,
      '--json',
    )

  it('refuses an interface this host does not have, at node add and node set, and stores nothing', async () => {
    assertJsonError(await addNode('--interface', 'eth9'), 3, 'INTERFACE_NOT_FOUND', /^interface "eth9" cannot be read/)
    assert.deepEqual((await may20('node', 'list', '--json')).json, [])
    const added = await addNode()
    assert.equal(added.code, 0, added.stderr)
    assert.equal(added.json.interface, null)
    const refused = await may20('node', 'set', 'x1', '--interface', 'eth9')
    assert.equal(refused.code, 3)
    assert.match(refused.stderr, /^error: interface "eth9" cannot be read on this host: .*ENOENT \(give an interface/)
    assertJsonError(
      await may20('node', 'set', 'x1', '--interface', '../eth0', '--json'),
      2,
      'INTERFACE_INVALID',
      /not a network interface name/,
    )
    assert.equal((await may20('node', 'show', 'x1', '--json')).json.interface, null)
  })

  it("takes this machine's real lo interface (the real /sys path)", async () => {
    const real = await runSbq(['node', 'set', 'x1', '--interface', 'lo', '--json'], {
      db: workspace.db,
      env: {SBQ_NOW: '2024-05-20T12:00:00Z', SBQ_SYSFS_ROOT: ''},
    })
    assert.equal(real.code, 0, real.stderr)
    assert.equal(real.json.interface, 'lo')
  })

  it('records the interface with each pull, and warns about nothing while drift-threshold is off', async () => {
    const set = await may20('node', 'set', 'x1', '--interface', 'eth0', '--json')
    assert.deepEqual([set.code, set.json.interface], [0, 'eth0'])
    stub.addTraffic('alice', 0, 0)
    assert.equal((await may20('stats', 'pull')).code, 0, 'the first pull is the baseline')
    stub.addTraffic('alice', 10 * MiB, 90 * MiB)
    carry(4 * GiB)
    const pull = await may20('stats', 'pull', '--json')
    assert.equal(pull.code, 0, pull.stderr)
    assert.equal(pull.stderr, '')
    assert.deepEqual(
      [pull.json.nodes[0].drift.interfaceBytes, pull.json.nodes[0].drift.countedBytes],
      [8 * GiB, 100 * MiB],
    )
    assert.equal(pull.json.nodes[0].drift.thresholdPercent, null)
    const shown = (await may20('node', 'show', 'x1', '--json')).json
    assert.deepEqual(shown.drift, {
      day: '2024-05-20',
      interfaceBytes: 8 * GiB,
      countedBytes: 100 * MiB,
      ratioPercent: 2,
      warnedAt: null,
    })
    const listed = (await may20('node', 'list', '--json')).json
    assert.deepEqual([listed[0].interface, listed[0].drift.countedBytes], ['eth0', 100 * MiB])
  })

  it('warns on stderr and alerts once a day when the node counted far less than the interface carried', async () => {
    assert.equal((await may20('config', 'set', 'drift-threshold', '50')).code, 0)
    stub.addTraffic('alice', 0, 50 * MiB)
    carry(2 * GiB)
    const check = await may20('check')
    assert.equal(check.code, 0, check.stderr)
    const warning =
      /^warning: node "x1" counted 150 MiB on 2024-05-20 while interface eth0 carried 12\.0 GiB: 2% of half of it, under drift-threshold 50% \(.*VLESS-Vision.*traffic sbq does not manage.*\)$/m
    assert.match(check.stderr, warning)
    assert.equal(check.stderr.trim().split('\n').length, 1, check.stderr)
    assert.equal(received.length, 1)
    assert.deepEqual([received[0]!.kind, received[0]!.user, received[0]!.node], ['drift', null, 'x1'])
    assert.match(
      received[0]!.text,
      /^sbq: node x1 counted 150 MiB since 2024-05-20 00:00 while interface eth0 carried 12\.0 GiB, under 50% of half of it; /,
    )

    stub.addTraffic('alice', 0, 10 * MiB)
    carry(1 * GiB)
    const again = await may20('check')
    assert.deepEqual([again.code, again.stderr], [0, ''], 'check says it once a day, not every minute')
    assert.equal(received.length, 1, 'the alert is not raised twice on one day')
    const pull = await may20('stats', 'pull')
    assert.match(
      pull.stderr,
      /^warning: node "x1" counted 160 MiB on 2024-05-20 while interface eth0 carried 14\.0 GiB/,
    )
    assert.equal(pull.code, 0)
    assert.notEqual((await may20('node', 'show', 'x1', '--json')).json.drift.warnedAt, null)
  })

  it('says nothing on a day the node counted what the interface carried', async () => {
    const may21 = (...args: string[]) => sbqAt('2024-05-21T12:00:00Z', ...args)
    stub.addTraffic('alice', 512 * MiB, 1536 * MiB)
    carry(2 * GiB)
    const check = await may21('check')
    assert.deepEqual([check.code, check.stderr], [0, ''])
    const pull = await may21('stats', 'pull', '--json')
    assert.equal(pull.stderr, '')
    assert.deepEqual(
      [pull.json.nodes[0].drift.day, pull.json.nodes[0].drift.ratioPercent, pull.json.nodes[0].drift.drifting],
      ['2024-05-21', 100, false],
    )
    assert.equal(received.length, 1, 'no alert')
  })

  it('still bills a pull whose interface is gone, with a warning, and clears the interface with none', async () => {
    rmSync(join(sysfs, 'class', 'net', 'eth0'), {recursive: true})
    stub.addTraffic('alice', 0, 5 * MiB)
    const pull = await sbqAt('2024-05-21T13:00:00Z', 'stats', 'pull', '--json')
    assert.equal(pull.code, 0, pull.stderr)
    assert.equal(pull.json.nodes[0].down, 5 * MiB)
    assert.match(pull.stderr, /^warning: node "x1": interface "eth0" cannot be read on this host: .*ENOENT$/m)
    const cleared = await may20('node', 'set', 'x1', '--interface', 'none', '--json')
    assert.deepEqual([cleared.code, cleared.json.interface], [0, null])
    const quiet = await sbqAt('2024-05-21T13:01:00Z', 'stats', 'pull', '--json')
    assert.deepEqual([quiet.code, quiet.stderr, quiet.json.nodes[0].drift], [0, '', null])
  })
})
