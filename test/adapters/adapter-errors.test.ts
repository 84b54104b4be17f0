/**
 * Each way a node can fail to answer becomes an SbqError with exit 4 that names the node, never a raw grpc/undici
 * error and never a hang.
 */
import assert from 'node:assert/strict'
import {type Server, type Socket, createServer} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {SbqError} from '../../src/lib/errors.js'
import {createSingBoxSsmApi} from '../../src/lib/proxies/sing-box-ssm/ssm-api.js'
import {createV2rayApi} from '../../src/lib/proxies/shared/v2ray-api/index.js'
import {StubSsmApi} from '../support/stub-ssm-api.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

const testTimeout = {timeout: 10_000}

function isSbqError(expected: {code: string; exit: number; includes: string[]}) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof SbqError, `expected SbqError, got ${String(error)}`)
    assert.equal(error.code, expected.code, error.message)
    assert.equal(error.exit, expected.exit)
    for (const part of expected.includes) assert.ok(error.message.includes(part), `"${error.message}" lacks "${part}"`)
    assert.match(error.message, /^[a-z]/, 'messages start lowercase')
    return true
  }
}

/** A loopback port that nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  assert.ok(address !== null && typeof address === 'object')
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return address.port
}

/** Accepts TCP connections and never says a word: a wedged proxy. */
async function silentTcpServer(): Promise<{server: Server; port: number; sockets: Set<Socket>}> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  assert.ok(address !== null && typeof address === 'object')
  return {server, port: address.port, sockets}
}

describe('v2ray api failures', () => {
  it('nothing listening: exit 4 naming the address', testTimeout, async () => {
    const address = `127.0.0.1:${await closedPort()}`
    const api = createV2rayApi({flavor: 'v2ray', address, timeoutMs: 3000})
    try {
      await assert.rejects(
        api.readStats(),
        isSbqError({code: 'NODE_UNREACHABLE', exit: 4, includes: [`node api "${address}"`]}),
      )
    } finally {
      api.close()
    }
  })

  it('a server that accepts but never answers: deadline exceeded', testTimeout, async () => {
    const silent = await silentTcpServer()
    const address = `127.0.0.1:${silent.port}`
    const api = createV2rayApi({flavor: 'xray', address, timeoutMs: 400})
    try {
      const started = Date.now()
      await assert.rejects(
        api.readStats(),
        isSbqError({code: 'NODE_TIMEOUT', exit: 4, includes: [`node api "${address}" did not answer within 400ms`]}),
      )
      assert.ok(Date.now() - started < 5000)
    } finally {
      api.close()
      for (const socket of silent.sockets) socket.destroy()
      silent.server.close()
    }
  })

  describe('against a misbehaving stub', () => {
    let stub: StubV2rayApi
    before(async () => {
      stub = await StubV2rayApi.start({flavor: 'v2ray'})
    })
    after(async () => {
      await stub.close()
    })

    it('a grpc server that never replies: deadline exceeded', testTimeout, async () => {
      stub.mode = 'silent'
      const api = createV2rayApi({flavor: 'v2ray', address: stub.address, timeoutMs: 300})
      try {
        await assert.rejects(api.readStats(), isSbqError({code: 'NODE_TIMEOUT', exit: 4, includes: ['within 300ms']}))
      } finally {
        api.close()
        stub.mode = 'serve'
      }
    })

    it('a malformed reply: exit 4, not a crash', testTimeout, async () => {
      stub.mode = 'garbage'
      const api = createV2rayApi({flavor: 'v2ray', address: stub.address, timeoutMs: 3000})
      try {
        await assert.rejects(
          api.readStats(),
          isSbqError({code: 'NODE_API_MALFORMED', exit: 4, includes: [stub.address, 'malformed']}),
        )
      } finally {
        api.close()
        stub.mode = 'serve'
      }
    })

    it('a counter past 2^53 is refused, not rounded', testTimeout, async () => {
      stub.setCounter('user>>>huge>>>traffic>>>uplink', 2n ** 53n + 1n)
      const api = createV2rayApi({flavor: 'v2ray', address: stub.address, timeoutMs: 3000})
      try {
        await assert.rejects(
          api.readStats(),
          isSbqError({
            code: 'NODE_COUNTER_OUT_OF_RANGE',
            exit: 4,
            includes: ['"user>>>huge>>>traffic>>>uplink"', '9007199254740993'],
          }),
        )
      } finally {
        api.close()
        stub.deleteCounter('user>>>huge>>>traffic>>>uplink')
      }
    })

    it('the wrong flavor: the service is unimplemented', testTimeout, async () => {
      const api = createV2rayApi({flavor: 'xray', address: stub.address, timeoutMs: 3000})
      try {
        await assert.rejects(
          api.readStats(),
          isSbqError({code: 'NODE_API_UNIMPLEMENTED', exit: 4, includes: [stub.address, 'GetSysStats']}),
        )
      } finally {
        api.close()
      }
    })

    it('an unknown inbound tag says so', testTimeout, async () => {
      const api = createV2rayApi({flavor: 'v2ray', address: stub.address, timeoutMs: 3000})
      try {
        const user = {name: 'erin', credentials: {uuid: 'u', password: 'p', password16: 'p16'}}
        await assert.rejects(
          api.addUser?.({tag: 'no-such-tag', protocol: 'vmess'}, user) ?? Promise.resolve(),
          isSbqError({code: 'INBOUND_UNKNOWN', exit: 4, includes: ['"no-such-tag"', stub.address]}),
        )
        await assert.rejects(
          api.removeUser?.({tag: 'no-such-tag', protocol: 'vmess'}, 'erin') ?? Promise.resolve(),
          isSbqError({code: 'INBOUND_UNKNOWN', exit: 4, includes: ['"no-such-tag"']}),
        )
      } finally {
        api.close()
      }
    })
  })

  it('rejects an address that is not HOST:PORT with exit 2', () => {
    for (const address of ['127.0.0.1', 'http://127.0.0.1:1', '127.0.0.1:99999', '']) {
      assert.throws(
        () => createV2rayApi({flavor: 'v2ray', address}),
        isSbqError({code: 'NODE_ADDRESS_INVALID', exit: 2, includes: [`"${address}"`]}),
      )
    }
  })
})

describe('sing-box ssm failures', () => {
  it('nothing listening: exit 4 naming the url', testTimeout, async () => {
    const baseUrl = `http://127.0.0.1:${await closedPort()}`
    const api = createSingBoxSsmApi({baseUrl, timeoutMs: 3000})
    try {
      await assert.rejects(
        api.readStats(),
        isSbqError({code: 'NODE_UNREACHABLE', exit: 4, includes: [`ssm api "${baseUrl}"`, 'ECONNREFUSED']}),
      )
    } finally {
      api.close()
    }
  })

  it('a server that accepts but never answers: deadline exceeded', testTimeout, async () => {
    const silent = await silentTcpServer()
    const baseUrl = `http://127.0.0.1:${silent.port}`
    const api = createSingBoxSsmApi({baseUrl, timeoutMs: 400})
    try {
      await assert.rejects(
        api.readStats(),
        isSbqError({code: 'NODE_TIMEOUT', exit: 4, includes: [`ssm api "${baseUrl}" did not answer within 400ms`]}),
      )
    } finally {
      api.close()
      for (const socket of silent.sockets) socket.destroy()
      silent.server.close()
    }
  })

  describe('against a misbehaving stub', () => {
    let stub: StubSsmApi
    before(async () => {
      stub = await StubSsmApi.start('/ss')
    })
    after(async () => {
      await stub.close()
    })

    it('malformed JSON: exit 4', testTimeout, async () => {
      stub.mode = 'garbage'
      const api = createSingBoxSsmApi({baseUrl: stub.baseUrl, timeoutMs: 3000})
      try {
        await assert.rejects(
          api.readStats(),
          isSbqError({code: 'NODE_API_MALFORMED', exit: 4, includes: [stub.baseUrl]}),
        )
      } finally {
        api.close()
        stub.mode = 'serve'
      }
    })

    it('a counter past 2^53 is refused, not rounded', testTimeout, async () => {
      stub.rawStatsBody =
        '{"uplinkBytes":0,"downlinkBytes":0,"users":[{"username":"huge","uplinkBytes":9007199254740993,"downlinkBytes":0}]}'
      const api = createSingBoxSsmApi({baseUrl: stub.baseUrl, timeoutMs: 3000})
      try {
        await assert.rejects(
          api.readStats(),
          isSbqError({code: 'NODE_API_MALFORMED', exit: 4, includes: ['"huge"', '2^53-1']}),
        )
      } finally {
        api.close()
        stub.rawStatsBody = null
      }
    })

    it('the wrong server path: a 404 page is an error, even for a delete', testTimeout, async () => {
      const api = createSingBoxSsmApi({baseUrl: `http://127.0.0.1:${stub.port}/wrong`, timeoutMs: 3000})
      try {
        await assert.rejects(api.readStats(), isSbqError({code: 'NODE_API_ERROR', exit: 4, includes: ['http 404']}))
        await assert.rejects(
          api.removeUser?.({tag: 'ss-in', protocol: 'shadowsocks'}, 'alice') ?? Promise.resolve(),
          isSbqError({code: 'NODE_API_ERROR', exit: 4, includes: ['http 404']}),
        )
      } finally {
        api.close()
      }
    })

    it('a silent http server: deadline exceeded', testTimeout, async () => {
      stub.mode = 'silent'
      const api = createSingBoxSsmApi({baseUrl: stub.baseUrl, timeoutMs: 300})
      try {
        await assert.rejects(api.readStats(), isSbqError({code: 'NODE_TIMEOUT', exit: 4, includes: ['within 300ms']}))
      } finally {
        api.close()
        stub.mode = 'serve'
      }
    })
  })
})
