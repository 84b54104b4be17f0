import assert from 'node:assert/strict'
import {copyFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

describe('account sharing: max-ips from Xray online-IP lists (stub API, real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-max-ips-')
  const configPath = join(workspace.dir, 'xray.json')
  const sbqAt = (now: string, ...args: string[]) => runSbq(args, {db: workspace.db, env: {SBQ_NOW: now}})
  const sbq = (...args: string[]) => sbqAt('2024-05-20T12:00:00Z', ...args)
  let stub: StubV2rayApi

  const onlineFrom = (count: number) =>
    new Map(Array.from({length: count}, (_, index) => [`203.0.113.${index + 1}`, 1_716_200_000]))

  before(async () => {
    copyFileSync(join(fixturesDir, 'xray-config.json'), configPath)
    stub = await StubV2rayApi.start({flavor: 'xray', inboundTags: ['vless-reality']})
    for (const args of [
      ['user', 'add', 'carol', '--max-ips', '2', '--no-apply'],
      ['user', 'add', 'erin', '--no-apply'],
      [
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
      ],
    ]) {
      const result = await sbq(...args)
      assert.equal(result.code, 0, result.stderr)
    }
    assert.equal((await sbq('check')).code, 0)
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('node test says the node can list online IPs', async () => {
    const result = await sbq('node', 'test', 'x1', '--json')
    assert.deepEqual([result.code, result.json.onlineIps, result.json.liveUserChanges], [0, true, true])
  })

  it('reports a user on more IPs than allowed, once per period in the history, without limiting by default', async () => {
    stub.onlineIps.set('carol', onlineFrom(3))
    stub.onlineIps.set('erin', onlineFrom(9))
    const result = await sbq('check', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(result.json.sharing, [{user: 'carol', ips: 3, maxIps: 2}])
    assert.deepEqual(result.json.changes, [])
    assert.equal((await sbq('check')).code, 0)
    const events = (await sbq('user', 'show', 'carol', '--json')).json.events.filter(
      (event: {kind: string}) => event.kind === 'max-ips',
    )
    assert.equal(events.length, 1)
    assert.equal(events[0].reason, 'seen on 3 IPs at once, max-ips is 2')
  })

  it('with enforce-max-ips on, limits the sharer and re-enables them only after the cool-down, not on the next run', async () => {
    assert.equal((await sbq('config', 'set', 'enforce-max-ips', 'on')).code, 0)
    const limited = await sbq('check', '--json')
    assert.deepEqual(
      limited.json.changes.map((change: {user: string; to: string; reason: string}) => [
        change.user,
        change.to,
        change.reason,
      ]),
      [['carol', 'limited', 'seen on 3 IPs at once, max-ips is 2']],
    )
    assert.ok(!stub.inbounds.get('vless-reality')!.has('carol'), 'removed live from the inbound')
    // Removed from the inbound, carol is online nowhere: the next run sees no IPs at all, which says nothing yet.
    stub.onlineIps.delete('carol')
    const cooldown = await sbq('config', 'get', 'max-ips-cooldown', '--json')
    assert.equal(cooldown.code, 0, cooldown.stderr)
    assert.equal(cooldown.json[0].value, '30m')
    for (const minute of ['12:01', '12:29']) {
      const quiet = await sbqAt(`2024-05-20T${minute}:00Z`, 'check', '--json')
      assert.equal(quiet.code, 0, quiet.stderr)
      assert.deepEqual(quiet.json.changes, [], `still limited at ${minute}`)
    }
    assert.ok(!stub.inbounds.get('vless-reality')!.has('carol'), 'not added back during the cool-down')
    const back = await sbqAt('2024-05-20T12:30:00Z', 'check', '--json')
    assert.deepEqual(
      back.json.changes.map((change: {user: string; to: string}) => [change.user, change.to]),
      [['carol', 'active']],
    )
    assert.ok(stub.inbounds.get('vless-reality')!.has('carol'), 'added back live')
  })

  it('max-ips-cooldown 0 re-enables at once; a bad value is refused with one line', async () => {
    stub.onlineIps.set('carol', onlineFrom(3))
    assert.deepEqual(
      (await sbqAt('2024-05-20T13:00:00Z', 'check', '--json')).json.changes.map((change: {to: string}) => change.to),
      ['limited'],
    )
    stub.onlineIps.delete('carol')
    assert.equal((await sbq('config', 'set', 'max-ips-cooldown', '0')).code, 0)
    assert.deepEqual(
      (await sbqAt('2024-05-20T13:01:00Z', 'check', '--json')).json.changes.map((change: {to: string}) => change.to),
      ['active'],
    )
    const bad = await sbq('config', 'set', 'max-ips-cooldown', 'soon', '--json')
    assert.equal(bad.code, 2)
    assert.equal(bad.json.error.message, 'max-ips-cooldown "soon" is not a duration')
  })

  it('asks the node once for every online user (GetUsersStats), and loopback connections never count', async () => {
    assert.equal((await sbq('config', 'set', 'enforce-max-ips', 'off')).code, 0)
    stub.calls.length = 0
    stub.onlineIps.clear()
    for (const ip of ['127.0.0.1', '[::1]', '203.0.113.7']) stub.seeConnection('carol', ip)
    const one = await sbqAt('2024-05-20T14:00:00Z', 'check', '--json')
    assert.equal(one.code, 0, one.stderr)
    assert.deepEqual(one.json.sharing, [], 'one IP that counts: within max-ips 2')
    for (const ip of ['203.0.113.8', '[2001:db8::9]']) stub.seeConnection('carol', ip)
    const three = await sbqAt('2024-05-20T14:01:00Z', 'check', '--json')
    assert.deepEqual(three.json.sharing, [{user: 'carol', ips: 3, maxIps: 2}])
    const asked = stub.calls
      .map((call) => call.method)
      .filter((method) => method.includes('Online') || method === 'GetUsersStats')
    assert.deepEqual(asked, ['GetUsersStats', 'GetUsersStats'])
  })
})

describe('account sharing on an Xray without GetUsersStats: asked user by user (stub API, real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-max-ips-old-')
  const sbq = (...args: string[]) => runSbq(args, {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
  let stub: StubV2rayApi

  before(async () => {
    const configPath = join(workspace.dir, 'xray.json')
    copyFileSync(join(fixturesDir, 'xray-config.json'), configPath)
    stub = await StubV2rayApi.start({flavor: 'xray', inboundTags: ['vless-reality'], unimplemented: ['GetUsersStats']})
    for (const args of [
      ['user', 'add', 'carol', '--max-ips', '2', '--no-apply'],
      ['user', 'add', 'erin', '--no-apply'],
      // prettier-ignore
      ['node', 'add', 'x1', '--type', 'xray', '--api', stub.address, '--config', configPath, '--inbound', 'vless-reality', '--apply', 'true'],
    ]) {
      const result = await sbq(...args)
      assert.equal(result.code, 0, result.stderr)
    }
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('falls back to GetStatsOnlineIpList for each watched user, without a warning', async () => {
    stub.onlineIps.set('carol', new Map([1, 2, 3].map((n) => [`203.0.113.${n}`, 1_716_200_000])))
    const result = await sbq('check', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr, '')
    assert.deepEqual(result.json.sharing, [{user: 'carol', ips: 3, maxIps: 2}])
    const asked = stub.calls.filter((call) => call.method === 'GetStatsOnlineIpList')
    assert.deepEqual(
      asked.map((call) => (call.request as {name: string}).name),
      ['user>>>carol>>>online'],
    )
  })
})
