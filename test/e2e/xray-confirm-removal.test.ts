/**
 * Issue 18 through the real bin/sbq: after a live removal sbq reads the inbound's users back from Xray
 * (GetInboundUsers, v24.11.5+). A removal the proxy did not take is the node's error: `sbq check` exits 4 with one
 * stderr line naming the user, the user stays recorded on the node, and the next check removes them again. An Xray
 * without the method is told once with the change and goes on as before.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {dumpDatabase} from '../support/db-dump.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

function vlessConfig(): object {
  return {
    inbounds: [
      {
        tag: 'vless-in',
        listen: '127.0.0.1',
        port: 24443,
        protocol: 'vless',
        settings: {decryption: 'none', clients: [{id: '5f3a1c1e-8a40-4d61-9f8e-2f1b1d0a7c11', email: 'operator'}]},
      },
    ],
    outbounds: [{protocol: 'freedom'}],
  }
}

/** The names the database records as on node `x`. */
function recordedOnNode(db: string): string[] {
  const dump = dumpDatabase(db)
  return (dump['node_users'] as Array<{user_name: string}>).map((row) => row.user_name).sort()
}

async function setUp(
  workspace: ReturnType<typeof tempWorkspace>,
  stub: StubV2rayApi,
  sbq: (...args: string[]) => ReturnType<typeof runSbq>,
): Promise<void> {
  const configPath = join(workspace.dir, 'config.json')
  writeFileSync(configPath, JSON.stringify(vlessConfig(), null, 2))
  for (const args of [
    ['user', 'add', 'alice', '--no-apply'],
    ['user', 'add', 'bob', '--no-apply'],
    // prettier-ignore
    ['node', 'add', 'x', '--type', 'xray', '--api', stub.address, '--config', configPath, '--inbound', 'vless-in', '--apply', 'exit 0'],
    ['node', 'sync', 'x'],
  ]) {
    const result = await sbq(...args)
    assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
  }
}

function removalsOf(stub: StubV2rayApi, name: string): number {
  return stub.calls.filter((call) => {
    const request = call.request as {operation?: {type: string; value: Uint8Array}}
    return (
      call.method === 'AlterInbound' &&
      request.operation?.type === 'xray.app.proxyman.command.RemoveUserOperation' &&
      Buffer.from(request.operation.value).includes(Buffer.from(name))
    )
  }).length
}

describe('Xray: a live removal the proxy did not take is reported and retried (real bin/sbq, stub gRPC API)', () => {
  const workspace = tempWorkspace('sbq-xray-confirm-')
  const sbq = (...args: string[]) =>
    runSbq([...args, '--json'], {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
  let stub: StubV2rayApi

  before(async () => {
    stub = await StubV2rayApi.start({flavor: 'xray', inboundTags: ['vless-in']})
    await setUp(workspace, stub, sbq)
    assert.deepEqual([...stub.inbounds.get('vless-in')!.keys()].sort(), ['alice', 'bob'])
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('exits 4 with one line naming bob, and keeps bob recorded on the node', async () => {
    stub.removalsIgnored.add('bob')
    const disabled = await sbq('user', 'disable', 'bob', '--no-apply')
    assert.equal(disabled.code, 0, disabled.stderr)

    const check = await sbq('check')
    assert.equal(check.code, 4, check.stderr)
    const lines = check.stderr.trim().split('\n')
    assert.equal(lines.length, 1, check.stderr)
    assert.match(
      lines[0]!,
      /^error: node "x": node api "127\.0\.0\.1:\d+" inbound "vless-in" still has user "bob" that sbq removed \(.*the next check retries it\)$/,
    )
    assert.match(check.json.nodes[0].error, /still has user "bob" that sbq removed/)
    assert.equal(check.json.nodes[0].applied, false)
    assert.equal(removalsOf(stub, 'bob'), 1)
    assert.deepEqual(recordedOnNode(workspace.db), ['alice', 'bob'])
  })

  it('tries the removal again at the next check, and records bob gone once the proxy takes it', async () => {
    const again = await sbq('check')
    assert.equal(again.code, 4, again.stderr)
    assert.equal(removalsOf(stub, 'bob'), 2)

    stub.removalsIgnored.delete('bob')
    const fixed = await sbq('check')
    assert.equal(fixed.code, 0, fixed.stderr)
    assert.equal(fixed.stderr, '')
    assert.deepEqual([fixed.json.nodes[0].method, fixed.json.nodes[0].removed], ['live', ['bob']])
    assert.equal(removalsOf(stub, 'bob'), 3)
    assert.deepEqual([...stub.inbounds.get('vless-in')!.keys()], ['alice'])
    assert.deepEqual(recordedOnNode(workspace.db), ['alice'])

    const quiet = await sbq('check')
    assert.equal(quiet.code, 0, quiet.stderr)
    assert.equal(removalsOf(stub, 'bob'), 3)
  })

  it('reads the users back once per inbound, not once per user', () => {
    const reads = stub.calls.filter((call) => call.method === 'GetInboundUsers')
    // The first sync (alice and bob added together) and the three checks that changed the node.
    assert.equal(reads.length, 4)
    assert.ok(reads.every((call) => (call.request as {email: string}).email === ''))
  })
})

describe('Xray before v24.11.5 (no GetInboundUsers): the removal goes through as before, said once (real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-xray-old-')
  const sbq = (...args: string[]) =>
    runSbq([...args, '--json'], {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
  let stub: StubV2rayApi

  before(async () => {
    stub = await StubV2rayApi.start({
      flavor: 'xray',
      inboundTags: ['vless-in'],
      unimplemented: ['GetInboundUsers', 'GetInboundUsersCount', 'GetUsersStats'],
    })
    await setUp(workspace, stub, sbq)
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('exits 0, records bob gone and warns once in the node line, not as an error', async () => {
    const disabled = await sbq('user', 'disable', 'bob', '--no-apply')
    assert.equal(disabled.code, 0, disabled.stderr)
    const check = await sbq('check')
    assert.equal(check.code, 0, check.stderr)
    assert.equal(check.stderr, '')
    const [node] = check.json.nodes
    assert.equal(node.error, null)
    assert.deepEqual([node.method, node.removed], ['live', ['bob']])
    assert.match(node.warning, /GetInboundUsers needs Xray v24\.11\.5/)
    assert.deepEqual(recordedOnNode(workspace.db), ['alice'])

    const human = await runSbq(['check'], {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
    assert.equal(human.code, 0, human.stderr)
    assert.equal(human.stdout, '', 'nothing changed: nothing said again')
  })
})
