import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {startStub} from '../../bench/lib/stub-process.js'
import {createV2rayApi} from '../../src/lib/proxies/shared/v2ray-api/index.js'
import {seededDownlink, seededUplink} from '../support/stub-v2ray-api.js'

describe('bench stub process', () => {
  it('grows only every tenth user once told, and every user again after', {timeout: 30_000}, async () => {
    const stub = startStub({users: 20, growBytes: 1000, timeoutMs: 20_000})
    const api = createV2rayApi({flavor: 'v2ray', address: await stub.address, timeoutMs: 10_000})
    const uplinks = async () =>
      new Map(
        (await api.readStats()).counters
          .filter((sample) => sample.name.endsWith('>>>uplink'))
          .map((sample) => [sample.name.split('>>>')[1]!, sample.value]),
      )
    try {
      await stub.activeEvery(10)
      const tenth = await uplinks()
      assert.equal(tenth.size, 20)
      for (let index = 1; index <= 20; index++)
        assert.equal(tenth.get(`user${index}`), seededUplink(index) + (index % 10 === 0 ? 1000 : 0), `user${index}`)
      await stub.activeEvery(1)
      const every = await uplinks()
      assert.equal(every.get('user3'), seededUplink(3) + 1000)
      assert.equal(every.get('user10'), seededUplink(10) + 2000)
      const downlinks = (await api.readStats()).counters.find(
        (sample) => sample.name === 'user>>>user7>>>traffic>>>downlink',
      )
      assert.equal(downlinks?.value, seededDownlink(7) + 2000)
    } finally {
      api.close()
      await stub.stop()
    }
  })
})
