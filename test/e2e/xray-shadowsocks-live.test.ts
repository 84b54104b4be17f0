/**
 * Issue 14, item 10 through the real bin/sbq: a live add to an Xray legacy shadowsocks inbound (aes-256-gcm, per
 * client `method`) must carry `xray.proxy.shadowsocks.Account {password, cipher_type}`. sbq used to send a 2022
 * account there, and Xray casts the account unchecked (proxy/shadowsocks/validator.go Validator.Add; for the other way
 * round proxy/shadowsocks_2022/inbound_multi.go MultiUserInbound.AddUser), which panics the whole process. The stub
 * emulates that: the wrong account type ends it (StubV2rayApiOptions.accountTypes).
 */
import assert from 'node:assert/strict'
import {copyFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

/** Xray's CipherType for aes-256-gcm (proxy/shadowsocks/config.proto). */
const AES_256_GCM = 6

describe('Xray shadowsocks live add: each inbound gets its own account type (real bin/sbq, emulated Xray HandlerService)', () => {
  const workspace = tempWorkspace('sbq-xray-ss-')
  const configPath = join(workspace.dir, 'config.json')
  const sbq = (...args: string[]) =>
    runSbq([...args, '--json'], {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
  let stub: StubV2rayApi

  before(async () => {
    copyFileSync(join(fixturesDir, 'xray-config.json'), configPath)
    stub = await StubV2rayApi.start({
      flavor: 'xray',
      inboundTags: ['ss-legacy', 'ss2022'],
      accountTypes: {'ss-legacy': 'xray.proxy.shadowsocks.Account', ss2022: 'xray.proxy.shadowsocks_2022.Account'},
    })
    for (const args of [
      ['user', 'add', 'bob', '--no-apply'],
      [
        'node',
        'add',
        'x',
        '--type',
        'xray',
        '--api',
        stub.address,
        '--config',
        configPath,
        '--inbound',
        'ss-legacy',
        '--inbound',
        'ss2022',
        '--apply',
        'exit 0',
      ],
    ]) {
      const result = await sbq(...args)
      assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
    }
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('adds bob live with a legacy account on the aes-256-gcm inbound and a 2022 key on the 2022 one, and Xray lives', async () => {
    const synced = await sbq('node', 'sync', 'x')
    assert.equal(synced.code, 0, synced.stderr)
    assert.equal(stub.crashed, false, 'the emulated Xray was ended by an account of the wrong type')
    assert.deepEqual([synced.json[0].method, synced.json[0].added, synced.json[0].error], ['live', ['bob'], null])
    const shown = (await sbq('user', 'show', 'bob', '--secrets')).json
    const legacy = stub.inbounds.get('ss-legacy')!.get('bob')!
    assert.equal(legacy.accountType, 'xray.proxy.shadowsocks.Account')
    assert.deepEqual(
      legacy.accountFields,
      new Map<number, string | number>([
        [1, shown.credentials.password],
        [2, AES_256_GCM],
      ]),
    )
    const modern = stub.inbounds.get('ss2022')!.get('bob')!
    assert.equal(modern.accountType, 'xray.proxy.shadowsocks_2022.Account')
    assert.deepEqual(modern.accountFields, new Map([[1, shown.credentials.password16]]))
  })
})
