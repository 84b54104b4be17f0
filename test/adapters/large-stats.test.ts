/** 100k users in one QueryStats reply (~8 MB, past gRPC's default 4 MiB limit): every counter arrives exactly. */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {createV2rayApi} from '../../src/lib/proxies/shared/v2ray-api/index.js'
import {StubV2rayApi, seededDownlink, seededUplink} from '../support/stub-v2ray-api.js'

const userCount = 100_000

describe('100k users', () => {
  it('reads every counter of a 100k-user node', {timeout: 60_000}, async () => {
    const stub = await StubV2rayApi.start({flavor: 'v2ray', users: userCount, growBytes: 5})
    const api = createV2rayApi({flavor: 'v2ray', address: stub.address, timeoutMs: 30_000})
    try {
      for (const round of [1, 2]) {
        const snapshot = await api.readStats()
        assert.equal(snapshot.counters.length, userCount * 2)
        const byName = new Map(snapshot.counters.map((sample) => [sample.name, sample.value]))
        assert.equal(byName.size, userCount * 2)
        let total = 0
        for (let index = 1; index <= userCount; index++) {
          const uplink = byName.get(`user>>>user${index}>>>traffic>>>uplink`)
          const downlink = byName.get(`user>>>user${index}>>>traffic>>>downlink`)
          assert.equal(uplink, seededUplink(index) + 5 * round, `uplink of user${index}`)
          assert.equal(downlink, seededDownlink(index) + 5 * round, `downlink of user${index}`)
          total += (uplink ?? 0) + (downlink ?? 0)
        }
        const expected = (4000 * userCount * (userCount + 1)) / 2 + userCount * (7 + 10 * round)
        assert.equal(total, expected)
      }
    } finally {
      api.close()
      await stub.close()
    }
  })
})
