/**
 * Issue 18, the Xray API calls sbq uses against the emulator (test/support/stub-v2ray-api.ts, which follows
 * XTLS/Xray-core 2323273e): reading an inbound's users back after a change (GetInboundUsers), every online user's IPs
 * in one call (GetUsersStats), hysteria accounts and user levels; and the driver putting them together.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {shareLink} from '../../src/lib/domain/share-links.js'
import type {ChangeHost, InboundTarget, ManagedUser, ProxyNode} from '../../src/lib/proxies/proxy-driver.js'
import {type V2rayApi, createV2rayApi} from '../../src/lib/proxies/shared/v2ray-api/index.js'
import {xrayDriver} from '../../src/lib/proxies/xray/index.js'
import {StubV2rayApi, type StubV2rayApiOptions} from '../support/stub-v2ray-api.js'

const testTimeout = {timeout: 10_000}

function user(name: string, index: number): ManagedUser {
  return {
    name,
    credentials: {
      uuid: `2b7f1a8e-5c1d-4e3f-9a0b-1c2d3e4f5a${index.toString(16).padStart(2, '0')}`,
      password: `password-of-${name}`,
      password16: 'AAECAwQFBgcICQoLDA0ODw==',
    },
  }
}

const alice = user('alice', 1)
const bob = user('bob', 2)
const vless: InboundTarget = {tag: 'vless-in', protocol: 'vless'}
const hysteria: InboundTarget = {tag: 'hy-in', protocol: 'hysteria'}
const hysteriaAccount = 'xray.proxy.hysteria.account.Account'

async function connect(
  options: StubV2rayApiOptions,
): Promise<{stub: StubV2rayApi; api: V2rayApi; close: () => Promise<void>}> {
  const stub = await StubV2rayApi.start(options)
  const api = createV2rayApi({flavor: options.flavor, address: stub.address, timeoutMs: 3000})
  return {
    stub,
    api,
    close: async () => {
      api.close()
      await stub.close()
    },
  }
}

describe('xray GetInboundUsers: confirming a change took', () => {
  it('passes when the inbound holds who it should, with one call for the whole batch', testTimeout, async () => {
    const {stub, api, close} = await connect({flavor: 'xray', inboundTags: ['vless-in']})
    try {
      await api.addUser!(vless, alice)
      await api.addUser!(vless, bob)
      await api.removeUser!(vless, 'bob')
      await api.confirmUsers!(vless, {present: [alice], absent: ['bob', 'carol']})
      const reads = stub.calls.filter((call) => call.method === 'GetInboundUsers')
      assert.deepEqual(
        reads.map((call) => call.request),
        [{tag: 'vless-in', email: ''}],
      )
    } finally {
      await close()
    }
  })

  it('fails as the node error when a removal did not take or an add is missing', testTimeout, async () => {
    const {stub, api, close} = await connect({flavor: 'xray', inboundTags: ['vless-in']})
    try {
      await api.addUser!(vless, alice)
      stub.removalsIgnored.add('alice')
      await api.removeUser!(vless, 'alice')
      assert.ok(stub.inbounds.get('vless-in')!.has('alice'), 'the emulated proxy kept alice')
      await assert.rejects(api.confirmUsers!(vless, {present: [bob], absent: ['alice']}), {
        name: 'SbqError',
        code: 'NODE_CHANGE_NOT_APPLIED',
        exit: 4,
        message: `node api "${stub.address}" inbound "vless-in" still has user "alice" that sbq removed; does not have user "bob" that sbq added`,
      })
    } finally {
      await close()
    }
  })

  it('names a wrong tag, and answers UNIMPLEMENTED from an Xray before v24.11.5', testTimeout, async () => {
    const {api, close} = await connect({flavor: 'xray', inboundTags: ['vless-in']})
    try {
      await assert.rejects(api.confirmUsers!({tag: 'nope', protocol: 'vless'}, {present: [], absent: ['a']}), {
        code: 'INBOUND_UNKNOWN',
      })
    } finally {
      await close()
    }
    const old = await connect({flavor: 'xray', inboundTags: ['vless-in'], unimplemented: ['GetInboundUsers']})
    try {
      await assert.rejects(old.api.confirmUsers!(vless, {present: [], absent: ['a']}), {
        code: 'NODE_API_UNIMPLEMENTED',
      })
    } finally {
      await old.close()
    }
  })

  it('is not offered on V2Ray 4.x, which has no GetInboundUsers', testTimeout, async () => {
    const {api, close} = await connect({flavor: 'v2ray'})
    try {
      assert.equal(api.confirmUsers, undefined)
    } finally {
      await close()
    }
  })
})

describe('xray GetUsersStats: every online user in one call', () => {
  it('lists only users with an IP, never a loopback one, in one call', testTimeout, async () => {
    const {stub, api, close} = await connect({flavor: 'xray'})
    try {
      stub.seeConnection('alice', '203.0.113.4', 1_760_000_000)
      stub.seeConnection('alice', '[2001:db8::4]', 1_760_000_001)
      stub.seeConnection('bob', '127.0.0.1')
      stub.seeConnection('bob', '[::1]')
      const online = await api.allOnlineIps!()
      assert.deepEqual(
        online,
        new Map([
          [
            'alice',
            new Map([
              ['203.0.113.4', 1_760_000_000],
              ['[2001:db8::4]', 1_760_000_001],
            ]),
          ],
        ]),
      )
      assert.deepEqual(
        stub.calls.map((call) => [call.method, call.request]),
        [['GetUsersStats', {includeTraffic: false, reset: false}]],
      )
      // The per-user call agrees: bob's online map exists, empty.
      assert.deepEqual(await api.onlineIps!('bob'), new Map())
    } finally {
      await close()
    }
  })

  it('answers null from an Xray without it, and V2Ray has neither call', testTimeout, async () => {
    const old = await connect({flavor: 'xray', unimplemented: ['GetUsersStats']})
    try {
      assert.equal(await old.api.allOnlineIps!(), null)
    } finally {
      await old.close()
    }
    const v2ray = await connect({flavor: 'v2ray'})
    try {
      assert.equal(v2ray.api.allOnlineIps, undefined)
    } finally {
      await v2ray.close()
    }
  })
})

describe('xray hysteria accounts and user levels, live', () => {
  it('adds a hysteria user with its auth and level, re-adds and removes without error', testTimeout, async () => {
    const {stub, api, close} = await connect({
      flavor: 'xray',
      inboundTags: ['hy-in', 'vless-in'],
      accountTypes: {'hy-in': hysteriaAccount},
    })
    try {
      await api.addUser!(hysteria, alice, 3)
      const added = stub.inbounds.get('hy-in')!.get('alice')!
      assert.deepEqual(
        [added.accountType, added.accountFields, added.level],
        [hysteriaAccount, new Map([[1, 'password-of-alice']]), 3],
      )
      // proxy/hysteria's validator stores over an existing user and deletes a missing one without complaint.
      await api.addUser!(hysteria, alice, 3)
      await api.removeUser!(hysteria, 'nobody')
      assert.equal(stub.crashed, false)
      await api.addUser!(vless, bob, 2)
      assert.equal(stub.inbounds.get('vless-in')!.get('bob')!.level, 2)
    } finally {
      await close()
    }
  })

  it('refuses hysteria on V2Ray, which has no such protocol', testTimeout, async () => {
    const {api, close} = await connect({flavor: 'v2ray', inboundTags: ['hy-in']})
    try {
      await assert.rejects(api.addUser!(hysteria, alice), {code: 'INBOUND_NOT_LIVE', exit: 2})
    } finally {
      await close()
    }
  })
})

describe('xray driver: hysteria inbound, levels kept, removals read back', () => {
  let dir: string
  let stub: StubV2rayApi
  const host: ChangeHost = {pullNode: async () => {}, validateAlways: false}
  const managed = new Set(['alice', 'bob'])

  const config = {
    inbounds: [
      {
        tag: 'hy-in',
        port: 8443,
        protocol: 'hysteria',
        settings: {
          version: 2,
          clients: [
            {auth: 'operator-secret', email: 'operator', level: 2},
            {auth: 'password-of-alice', email: 'alice', level: 1},
            {auth: 'dave-secret', email: 'dave', level: 2},
          ],
        },
        streamSettings: {
          network: 'hysteria',
          security: 'tls',
          tlsSettings: {serverName: 'hy.example.com', alpn: ['h3']},
          finalmask: {udp: [{type: 'salamander', settings: {password: 'obfs-secret'}}]},
        },
      },
    ],
  }

  function node(overrides: Partial<ProxyNode> = {}): ProxyNode {
    return {
      name: 'x',
      type: 'xray',
      api: stub.address,
      config_path: join(dir, 'config.json'),
      inbounds: JSON.stringify(['hy-in']),
      apply_command: 'true',
      cut_sessions: 0,
      panel_url: null,
      panel_user: null,
      panel_password: null,
      ...overrides,
    }
  }

  function clientsOnDisk(): Array<{auth: string; email: string; level: number}> {
    const onDisk = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as typeof config
    return onDisk.inbounds[0]!.settings.clients
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sbq-xray-hy-'))
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2))
    stub = await StubV2rayApi.start({flavor: 'xray', inboundTags: ['hy-in'], accountTypes: {'hy-in': hysteriaAccount}})
  })

  after(async () => {
    await stub.close()
    rmSync(dir, {recursive: true, force: true})
  })

  it("adds bob live at the inbound's usual level and keeps alice's own level in the config", testTimeout, async () => {
    const outcome = await xrayDriver.applyUsers(
      {node: node(), added: [alice, bob], removed: [], active: [alice, bob], managed},
      host,
    )
    assert.deepEqual(outcome, {method: 'live', warning: null})
    const live = stub.inbounds.get('hy-in')!
    assert.deepEqual(
      [...live.values()].map((entry) => [entry.email, entry.level, entry.accountType, entry.accountFields.get(1)]),
      [
        ['alice', 1, hysteriaAccount, 'password-of-alice'],
        ['bob', 2, hysteriaAccount, 'password-of-bob'],
      ],
    )
    assert.deepEqual(clientsOnDisk(), [
      {auth: 'operator-secret', email: 'operator', level: 2},
      {auth: 'dave-secret', email: 'dave', level: 2},
      {auth: 'password-of-alice', email: 'alice', level: 1},
      {auth: 'password-of-bob', email: 'bob', level: 2},
    ])
    assert.equal(stub.calls.filter((call) => call.method === 'GetInboundUsers').length, 1)
  })

  it('gives a hysteria2 share link with the TLS name and the salamander obfuscation', () => {
    const [inbound] = xrayDriver.readShareInbounds!(readFileSync(join(dir, 'config.json'), 'utf8'), 'c', ['hy-in'], '')
    const link = shareLink(inbound!, alice, {host: 'vpn.example.com'})
    assert.deepEqual(link, {
      tag: 'hy-in',
      protocol: 'hysteria2',
      link: 'hysteria2://password-of-alice@vpn.example.com:8443/?alpn=h3&sni=hy.example.com&obfs=salamander&obfs-password=obfs-secret#alice',
    })
  })

  it(
    'fails with the node error when the proxy keeps a removed user, the config already without them',
    testTimeout,
    async () => {
      stub.removalsIgnored.add('bob')
      await assert.rejects(
        xrayDriver.applyUsers({node: node(), added: [], removed: ['bob'], active: [alice], managed}, host),
        {code: 'NODE_CHANGE_NOT_APPLIED', message: /inbound "hy-in" still has user "bob" that sbq removed/},
      )
      assert.ok(stub.inbounds.get('hy-in')!.has('bob'))
      assert.deepEqual(
        clientsOnDisk().map((client) => client.email),
        ['operator', 'dave', 'alice'],
      )
    },
  )

  it('with --cut-sessions the restart loads the config without them: no error', testTimeout, async () => {
    const outcome = await xrayDriver.applyUsers(
      {node: node({cut_sessions: 1}), added: [], removed: ['bob'], active: [alice], managed},
      host,
    )
    assert.deepEqual(outcome, {method: 'live+restart', warning: null})
    stub.removalsIgnored.clear()
  })
})
