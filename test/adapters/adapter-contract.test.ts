/**
 * One contract, every adapter: the same behaviour from Xray, V2Ray and sing-box over gRPC and sing-box over SSM,
 * each against its stub.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import type {InboundTarget, ManagedUser, ProxyApi, StatsSnapshot} from '../../src/lib/proxies/proxy-driver.js'
import {createSingBoxSsmApi} from '../../src/lib/proxies/sing-box-ssm/ssm-api.js'
import {type V2rayApi, type V2rayFlavor, createV2rayApi} from '../../src/lib/proxies/shared/v2ray-api/index.js'
import {StubSsmApi} from '../support/stub-ssm-api.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

const testTimeout = {timeout: 10_000}

/** What the contract needs to drive a stub, whatever its kind. */
interface Harness {
  api: ProxyApi
  reportsUptime: boolean
  liveUsers: boolean
  /** Traffic by `user`; the user exists on the proxy afterwards. */
  traffic(user: string, uplink: number, downlink: number): void
  restart(): void
  /** Whether the proxy currently has `name` on `inbound`. */
  hasUser(inbound: InboundTarget, name: string): boolean
  close(): Promise<void>
}

async function grpcHarness(flavor: V2rayFlavor): Promise<Harness & {stub: StubV2rayApi; api: V2rayApi}> {
  const stub = await StubV2rayApi.start({flavor})
  stub.setCounter('inbound>>>vmess-in>>>traffic>>>uplink', 11)
  stub.setCounter('outbound>>>direct>>>traffic>>>downlink', 22)
  const api = createV2rayApi({flavor, address: stub.address, timeoutMs: 3000})
  return {
    stub,
    api,
    reportsUptime: true,
    liveUsers: flavor !== 'sing-box',
    traffic: (user, uplink, downlink) => stub.addTraffic(user, uplink, downlink),
    restart: () => stub.restart(),
    hasUser: (inbound, name) => stub.inbounds.get(inbound.tag)?.has(name) ?? false,
    close: async () => {
      api.close()
      await stub.close()
    },
  }
}

async function ssmHarness(): Promise<Harness> {
  const stub = await StubSsmApi.start('/ss')
  const api = createSingBoxSsmApi({baseUrl: stub.baseUrl, timeoutMs: 3000})
  return {
    api,
    reportsUptime: false,
    liveUsers: true,
    traffic: (user, uplink, downlink) => {
      if (!stub.users.has(user)) stub.addUser(user, 'k')
      stub.addTraffic(user, uplink, downlink)
    },
    restart: () => {
      // Without a cache file sing-box forgets every user; sbq's next check puts them back, at 0.
      const users = [...stub.users]
      stub.restart()
      for (const [name, user] of users) stub.addUser(name, user.uPSK)
    },
    hasUser: (_inbound, name) => stub.users.has(name),
    close: async () => {
      api.close()
      await stub.close()
    },
  }
}

function counter(snapshot: StatsSnapshot, name: string): number | undefined {
  return snapshot.counters.find((sample) => sample.name === name)?.value
}

const alice: ManagedUser = {
  name: 'alice',
  credentials: {
    uuid: '2b7f1a8e-5c1d-4e3f-9a0b-1c2d3e4f5a6b',
    password: 'q83hU5wPZ6m2r9T0x1yA7bC4dE5fG6hI8jK9lM0nO1p=',
    password16: 'AAECAwQFBgcICQoLDA0ODw==',
  },
}

const adapters: {name: string; start: () => Promise<Harness>}[] = [
  {name: 'xray (grpc)', start: () => grpcHarness('xray')},
  {name: 'v2ray (grpc)', start: () => grpcHarness('v2ray')},
  {name: 'sing-box v2ray_api (grpc)', start: () => grpcHarness('sing-box')},
  {name: 'sing-box ssm-api (http)', start: ssmHarness},
]

for (const adapter of adapters) {
  describe(`proxy api contract: ${adapter.name}`, () => {
    let harness: Harness
    before(async () => {
      harness = await adapter.start()
    })
    after(async () => {
      await harness.close()
    })

    it('reads per-user counters under the shared names, exactly', testTimeout, async () => {
      harness.traffic('alice', 1_000_000, 5_000_000_000)
      harness.traffic('bob', 0, 2 ** 52 + 1)
      const snapshot = await harness.api.readStats()
      assert.equal(counter(snapshot, 'user>>>alice>>>traffic>>>uplink'), 1_000_000)
      assert.equal(counter(snapshot, 'user>>>alice>>>traffic>>>downlink'), 5_000_000_000)
      assert.equal(counter(snapshot, 'user>>>bob>>>traffic>>>downlink'), 2 ** 52 + 1)
      for (const sample of snapshot.counters)
        assert.ok(Number.isSafeInteger(sample.value) && sample.value >= 0, sample.name)
    })

    it('reports uptime where the api has it', testTimeout, async () => {
      const snapshot = await harness.api.readStats()
      if (harness.reportsUptime) assert.equal(typeof snapshot.uptimeSeconds, 'number')
      else assert.equal(snapshot.uptimeSeconds, null)
    })

    it('reads cumulatively: a read resets nothing', testTimeout, async () => {
      const first = await harness.api.readStats()
      const second = await harness.api.readStats()
      assert.deepEqual(
        second.counters
          .filter((sample) => sample.name.startsWith('user>>>'))
          .sort((a, b) => a.name.localeCompare(b.name)),
        first.counters
          .filter((sample) => sample.name.startsWith('user>>>'))
          .sort((a, b) => a.name.localeCompare(b.name)),
      )
      harness.traffic('alice', 10, 20)
      const third = await harness.api.readStats()
      assert.equal(counter(third, 'user>>>alice>>>traffic>>>uplink'), 1_000_010)
      assert.equal(counter(third, 'user>>>alice>>>traffic>>>downlink'), 5_000_000_020)
    })

    it('shows a restart as zeroed counters', testTimeout, async () => {
      harness.restart()
      const snapshot = await harness.api.readStats()
      const alicesUplink = counter(snapshot, 'user>>>alice>>>traffic>>>uplink')
      assert.equal(alicesUplink, 0)
      if (harness.reportsUptime) assert.equal(snapshot.uptimeSeconds, 0)
    })

    it('adds and removes users idempotently, or offers no such methods', testTimeout, async (t) => {
      const {addUser, removeUser} = harness.api
      if (!harness.liveUsers) {
        assert.equal(addUser, undefined)
        assert.equal(removeUser, undefined)
        return
      }
      assert.ok(addUser && removeUser)
      const inbound: InboundTarget = {tag: 'vless-in', protocol: 'vless', flow: 'xtls-rprx-vision'}
      await t.test('add', async () => {
        await addUser.call(harness.api, inbound, alice)
        assert.ok(harness.hasUser(inbound, 'alice'))
      })
      await t.test('add again succeeds', async () => {
        await addUser.call(harness.api, inbound, alice)
        assert.ok(harness.hasUser(inbound, 'alice'))
      })
      await t.test('remove', async () => {
        await removeUser.call(harness.api, inbound, 'alice')
        assert.equal(harness.hasUser(inbound, 'alice'), false)
      })
      await t.test('remove again succeeds', async () => {
        await removeUser.call(harness.api, inbound, 'alice')
        assert.equal(harness.hasUser(inbound, 'alice'), false)
      })
    })
  })
}

describe('v2ray api specifics', () => {
  it('never asks for reset and keeps inbound and outbound counters', testTimeout, async () => {
    const harness = await grpcHarness('v2ray')
    try {
      harness.stub.setCounter('user>>>carol>>>traffic>>>uplink', 5)
      const snapshot = await harness.api.readStats()
      assert.equal(counter(snapshot, 'inbound>>>vmess-in>>>traffic>>>uplink'), 11)
      assert.equal(counter(snapshot, 'outbound>>>direct>>>traffic>>>downlink'), 22)
      assert.equal(harness.stub.counter('user>>>carol>>>traffic>>>uplink'), 5)
      const queries = harness.stub.calls.filter((call) => call.method === 'QueryStats')
      assert.ok(queries.length > 0)
      for (const query of queries) assert.deepEqual(query.request, {pattern: '', reset: false})
    } finally {
      await harness.close()
    }
  })

  it('keeps only traffic counters from sing-box, which ignores the pattern', testTimeout, async () => {
    const harness = await grpcHarness('sing-box')
    try {
      harness.stub.setCounter('user>>>dave>>>traffic>>>uplink', 3)
      harness.stub.setCounter('something>>>else', 4)
      const snapshot = await harness.api.readStats()
      assert.deepEqual(snapshot.counters.map((sample) => sample.name).sort(), [
        'inbound>>>vmess-in>>>traffic>>>uplink',
        'outbound>>>direct>>>traffic>>>downlink',
        'user>>>dave>>>traffic>>>uplink',
      ])
    } finally {
      await harness.close()
    }
  })

  for (const flavor of ['xray', 'v2ray'] as const) {
    it(`sends each protocol's account as ${flavor} expects`, testTimeout, async () => {
      const harness = await grpcHarness(flavor)
      const prefix = flavor === 'xray' ? 'xray.' : 'v2ray.core.'
      try {
        const addUser = harness.api.addUser?.bind(harness.api)
        assert.ok(addUser)
        await addUser({tag: 'vmess-in', protocol: 'vmess'}, alice)
        await addUser({tag: 'vless-in', protocol: 'vless'}, alice)
        await addUser({tag: 'trojan-in', protocol: 'trojan'}, alice)
        const user = (tag: string) => harness.stub.inbounds.get(tag)?.get('alice')
        assert.equal(user('vmess-in')?.accountType, `${prefix}proxy.vmess.Account`)
        assert.deepEqual(user('vmess-in')?.accountFields, new Map([[1, alice.credentials.uuid]]))
        assert.equal(user('vless-in')?.accountType, `${prefix}proxy.vless.Account`)
        // Field 3 (encryption) stays unset: Xray refuses it on an inbound's users.
        assert.deepEqual(user('vless-in')?.accountFields, new Map([[1, alice.credentials.uuid]]))
        assert.equal(user('trojan-in')?.accountType, `${prefix}proxy.trojan.Account`)
        assert.deepEqual(user('trojan-in')?.accountFields, new Map([[1, alice.credentials.password]]))
        assert.equal(user('trojan-in')?.email, 'alice')
        const ss2022 = addUser({tag: 'ss-in', protocol: 'shadowsocks', method: '2022-blake3-aes-128-gcm'}, alice)
        if (flavor === 'xray') {
          await ss2022
          assert.equal(user('ss-in')?.accountType, 'xray.proxy.shadowsocks_2022.Account')
          assert.deepEqual(user('ss-in')?.accountFields, new Map([[1, alice.credentials.password16]]))
        } else {
          await assert.rejects(ss2022, {name: 'SbqError', exit: 2, code: 'INBOUND_NOT_LIVE'})
        }
      } finally {
        await harness.close()
      }
    })
  }

  it('gives xray shadowsocks 2022 256-bit inbounds the 32-byte key', testTimeout, async () => {
    const harness = await grpcHarness('xray')
    try {
      await harness.api.addUser?.({tag: 'ss-in', protocol: 'shadowsocks', method: '2022-blake3-aes-256-gcm'}, alice)
      assert.deepEqual(
        harness.stub.inbounds.get('ss-in')?.get('alice')?.accountFields,
        new Map([[1, alice.credentials.password]]),
      )
    } finally {
      await harness.close()
    }
  })

  it('lists online IPs on xray, empty before a first connection', testTimeout, async () => {
    const harness = await grpcHarness('xray')
    try {
      assert.ok(harness.api.onlineIps)
      assert.deepEqual(await harness.api.onlineIps('alice'), new Map())
      harness.stub.onlineIps.set('alice', new Map([['198.51.100.4', 1_760_000_000]]))
      assert.deepEqual(await harness.api.onlineIps('alice'), new Map([['198.51.100.4', 1_760_000_000]]))
    } finally {
      await harness.close()
    }
    const v2ray = await grpcHarness('v2ray')
    try {
      assert.equal(v2ray.api.onlineIps, undefined)
    } finally {
      await v2ray.close()
    }
  })
})

describe('sing-box ssm specifics', () => {
  it('posts the key matching the inbound method and replaces a stale one on re-add', testTimeout, async () => {
    const stub = await StubSsmApi.start()
    const api = createSingBoxSsmApi({baseUrl: `${stub.baseUrl}/`, inboundTag: 'ss-in', timeoutMs: 3000})
    try {
      await api.addUser?.({tag: 'ss-in', protocol: 'shadowsocks', method: '2022-blake3-aes-128-gcm'}, alice)
      assert.equal(stub.users.get('alice')?.uPSK, alice.credentials.password16)
      await api.addUser?.({tag: 'ss-in', protocol: 'shadowsocks', method: '2022-blake3-aes-256-gcm'}, alice)
      assert.equal(stub.users.get('alice')?.uPSK, alice.credentials.password)
      stub.addTraffic('alice', 7, 9)
      const snapshot = await api.readStats()
      assert.deepEqual(snapshot.counters, [
        {name: 'user>>>alice>>>traffic>>>uplink', value: 7},
        {name: 'user>>>alice>>>traffic>>>downlink', value: 9},
        {name: 'inbound>>>ss-in>>>traffic>>>uplink', value: 7},
        {name: 'inbound>>>ss-in>>>traffic>>>downlink', value: 9},
      ])
      assert.ok(stub.requests.every((request) => !request.url.includes('clear')))
    } finally {
      api.close()
      await stub.close()
    }
  })
})
