import assert from 'node:assert/strict'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {parseShareLink} from '../support/share-link-parser.js'
import {StubSsmApi} from '../support/stub-ssm-api.js'

describe('a sing-box SSM node (stub SSM API, real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-ssm-')
  const sbq = (...args: string[]) => runSbq([...args, '--json'], {db: workspace.db})
  let stub: StubSsmApi

  before(async () => {
    stub = await StubSsmApi.start()
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it("puts users on the server with the key length of the managed inbound's method, and takes them off", async () => {
    // The fixture's managed inbound uses 2022-blake3-aes-128-gcm: users need the 16-byte key.
    const node = await sbq(
      'node',
      'add',
      'ssm',
      '--type',
      'sing-box-ssm',
      '--api',
      stub.baseUrl,
      '--config',
      join(fixturesDir, 'sing-box-config.json'),
    )
    assert.equal(node.code, 0, node.stderr)
    const added = await sbq('user', 'add', 'carol')
    assert.equal(added.code, 0, added.stderr)
    assert.deepEqual(
      added.json.nodes.map((sync: {name: string; method: string; error: string | null}) => [
        sync.name,
        sync.method,
        sync.error,
      ]),
      [['ssm', 'api', null]],
    )
    assert.equal(stub.users.get('carol')?.uPSK, added.json.credentials.password16)
    assert.equal(Buffer.from(stub.users.get('carol')!.uPSK, 'base64').length, 16)

    const disabled = await sbq('user', 'disable', 'carol')
    assert.equal(disabled.code, 0, disabled.stderr)
    assert.equal(stub.users.has('carol'), false)
  })

  it("gives a share link for the inbound the SSM API serves: SIP022's server key, then the user's 16-byte key", async () => {
    assert.equal((await sbq('node', 'set', 'ssm', '--public-host', 'vpn.example.com:8391')).code, 0)
    const added = await sbq('user', 'add', 'fay')
    assert.equal(added.code, 0, added.stderr)
    const shown = await sbq('user', 'link', 'fay', '--node', 'ssm')
    assert.equal(shown.code, 0, shown.stderr)
    const [entry] = shown.json.nodes[0].links
    assert.deepEqual([entry.tag, entry.protocol], ['ss-ssm', 'shadowsocks'])
    const link = parseShareLink(entry.link)
    assert.deepEqual(
      [link.scheme, link.method, link.host, link.port, link.remark],
      ['ss', '2022-blake3-aes-128-gcm', 'vpn.example.com', 8391, 'fay'],
    )
    // The key the server was given for fay, after the inbound's own key.
    assert.equal(link.secret, `mAWUuVuxNH8TDRPDbcHdcA==:${stub.users.get('fay')!.uPSK}`)
    assert.equal((await sbq('user', 'remove', 'fay')).code, 0)
  })

  it('notices that a sing-box restart emptied the user list, and the next check puts every active user back', async () => {
    for (const name of ['dora', 'emil']) assert.equal((await sbq('user', 'add', name)).code, 0)
    assert.deepEqual([...stub.users.keys()].sort(), ['dora', 'emil'])
    stub.restart()
    const check = await sbq('check')
    assert.equal(check.code, 0, check.stderr)
    assert.deepEqual([...stub.users.keys()].sort(), ['dora', 'emil'], 'both back without sbq node sync')
    const again = await sbq('check')
    assert.deepEqual(
      again.json.nodes.map((sync: {method: string}) => sync.method),
      ['none'],
      'and a check with nothing lost changes nothing',
    )
  })
})

/**
 * Against the emulator of sing-box's SSM API (test/support/stub-ssm-api.ts), which follows SagerNet/sing-box
 * service/ssmapi/api.go, user.go, traffic.go and server.go: deleting a user drops that user's counters, and chi
 * routes on the raw path.
 */
describe('a sing-box SSM node under the upstream semantics (emulator of service/ssmapi, real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-ssm-upstream-')
  const sbq = (...args: string[]) =>
    runSbq([...args, '--json'], {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
  const MB = 1_000_000
  let stub: StubSsmApi

  before(async () => {
    stub = await StubSsmApi.start()
    const node = await sbq(
      'node',
      'add',
      'ssm',
      '--type',
      'sing-box-ssm',
      '--api',
      stub.baseUrl,
      '--config',
      join(fixturesDir, 'sing-box-config.json'),
    )
    assert.equal(node.code, 0, node.stderr)
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  const totals = async (): Promise<Record<string, number>> =>
    Object.fromEntries(
      (await sbq('user', 'list')).json.map((user: {name: string; totalUp: number; totalDown: number}) => [
        user.name,
        user.totalUp + user.totalDown,
      ]),
    )

  it("bills exactly the bytes sent across a disable and an enable with no pull in between (traffic.go drops a deleted user's counters)", async () => {
    for (const name of ['fay', 'gus']) assert.equal((await sbq('user', 'add', name)).code, 0)
    assert.equal((await sbq('stats', 'pull')).code, 0)
    stub.addTraffic('fay', 20 * MB, 40 * MB)
    stub.addTraffic('gus', 10 * MB, 30 * MB)
    assert.equal((await sbq('stats', 'pull')).code, 0)
    stub.addTraffic('fay', 10 * MB, 20 * MB)
    stub.addTraffic('gus', 5 * MB, 15 * MB)
    const disabled = await sbq('user', 'disable', 'fay')
    assert.equal(disabled.code, 0, disabled.stderr)
    assert.equal(stub.users.has('fay'), false)
    const enabled = await sbq('user', 'enable', 'fay')
    assert.equal(enabled.code, 0, enabled.stderr)
    assert.equal(stub.users.get('fay')?.uplinkBytes, 0, 'sing-box starts a re-added user at 0')
    stub.addTraffic('fay', 4 * MB, 6 * MB)
    const pulled = await sbq('stats', 'pull')
    assert.equal(pulled.code, 0, pulled.stderr)
    assert.equal(pulled.json.nodes[0].restarted, false)
    assert.deepEqual(await totals(), {fay: 100 * MB, gus: 60 * MB})
  })

  it('really removes a user whose name has "@" and confirms it from the user list', async () => {
    assert.equal((await sbq('user', 'add', 'hal@example.com')).code, 0)
    assert.ok(stub.users.has('hal@example.com'))
    const disabled = await sbq('user', 'disable', 'hal@example.com')
    assert.equal(disabled.code, 0, disabled.stderr)
    assert.equal(disabled.json.nodes[0].error, null)
    assert.equal(stub.users.has('hal@example.com'), false)
  })

  it("reports a removal the API did not apply as the node's error: check exits 4 with one line", async () => {
    assert.equal((await sbq('user', 'add', 'ida')).code, 0)
    stub.ignoreDeletes = true
    try {
      const disabled = await sbq('user', 'disable', 'ida')
      assert.match(disabled.json.nodes[0].error ?? '', /still has user "ida"/)
      const check = await sbq('check')
      assert.equal(check.code, 4, check.stderr)
      const lines = check.stderr.trim().split('\n')
      assert.equal(lines.length, 1, check.stderr)
      assert.match(lines[0]!, /^error: node "ssm": .*still has user "ida"/)
    } finally {
      stub.ignoreDeletes = false
    }
    const retried = await sbq('check')
    assert.equal(retried.code, 0, retried.stderr)
    assert.equal(stub.users.has('ida'), false)
  })
})
