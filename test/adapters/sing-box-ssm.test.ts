/**
 * The SSM driver against the emulator of sing-box's SSM API (test/support/stub-ssm-api.ts), which follows
 * SagerNet/sing-box service/ssmapi/api.go, user.go, traffic.go and server.go, and go-chi/chi v5 mux.go's routing on
 * the raw (escaped) path.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {SbqError} from '../../src/lib/errors.js'
import type {InboundTarget, ManagedUser} from '../../src/lib/proxies/proxy-driver.js'
import {createSingBoxSsmApi, type SingBoxSsmApi} from '../../src/lib/proxies/sing-box-ssm/ssm-api.js'
import {StubSsmApi} from '../support/stub-ssm-api.js'

const testTimeout = {timeout: 10_000}
const inbound: InboundTarget = {tag: 'ssm', protocol: 'shadowsocks', method: '2022-blake3-aes-128-gcm'}

function user(name: string): ManagedUser {
  return {
    name,
    credentials: {
      uuid: '2b7f1a8e-5c1d-4e3f-9a0b-1c2d3e4f5a6b',
      password: 'q83hU5wPZ6m2r9T0x1yA7bC4dE5fG6hI8jK9lM0nO1p=',
      password16: 'AAECAwQFBgcICQoLDA0ODw==',
    },
  }
}

describe('sing-box ssm driver against the upstream emulator (service/ssmapi api.go, user.go, traffic.go; chi raw paths)', () => {
  let stub: StubSsmApi
  let api: SingBoxSsmApi
  before(async () => {
    stub = await StubSsmApi.start('/ss')
    api = createSingBoxSsmApi({baseUrl: stub.baseUrl, timeoutMs: 3000})
  })
  after(async () => {
    api.close()
    await stub.close()
  })

  it(
    'the emulator answers a %40-escaped name with a bare 404, as chi matches the raw path (mux.go routeHTTP)',
    testTimeout,
    async () => {
      stub.addUser('eve@example.com', 'k')
      const reply = await fetch(`${stub.baseUrl}/server/v1/users/eve%40example.com`, {method: 'DELETE'})
      assert.deepEqual([reply.status, await reply.text()], [404, ''])
      assert.ok(stub.users.has('eve@example.com'), 'still there')
    },
  )

  it(
    'removes a user whose name has "@": the path carries the name so chi looks up the name itself',
    testTimeout,
    async () => {
      await api.addUser(inbound, user('alice@example.com'))
      assert.ok(stub.users.has('alice@example.com'))
      await api.removeUser(inbound, 'alice@example.com')
      assert.equal(stub.users.has('alice@example.com'), false)
      assert.ok(
        stub.requests.some(
          (request) => request.method === 'DELETE' && request.url === '/ss/server/v1/users/alice@example.com',
        ),
      )
      await api.confirmUsers(inbound, {present: [], absent: ['alice@example.com']})
    },
  )

  it(
    "reports a removal the server did not apply as the node's error, read back from GET /server/v1/users",
    testTimeout,
    async () => {
      await api.addUser(inbound, user('bob'))
      stub.ignoreDeletes = true
      try {
        await api.removeUser(inbound, 'bob')
        await assert.rejects(api.confirmUsers(inbound, {present: [], absent: ['bob']}), (error: unknown) => {
          assert.ok(error instanceof SbqError)
          assert.deepEqual([error.code, error.exit], ['NODE_CHANGE_NOT_APPLIED', 4])
          assert.match(error.message, /still has user "bob"/)
          assert.ok(!error.message.includes('\n'))
          return true
        })
      } finally {
        stub.ignoreDeletes = false
      }
    },
  )

  it('reports an add that did not take or holds another key', testTimeout, async () => {
    await assert.rejects(
      api.confirmUsers(inbound, {present: [user('carol')], absent: []}),
      /does not have user "carol"/,
    )
    stub.addUser('dora', 'c29tZSBvdGhlciBrZXk=')
    await assert.rejects(
      api.confirmUsers(inbound, {present: [user('dora')], absent: []}),
      /user "dora" with another key/,
    )
    await api.addUser(inbound, user('dora'))
    await api.confirmUsers(inbound, {present: [user('dora')], absent: []})
  })

  it(
    'says its counters live as long as the user: a deleted and re-added user starts at 0 (user.go Delete, traffic.go UpdateUsers)',
    testTimeout,
    async () => {
      assert.equal(api.counterLifetime, 'user')
      await api.addUser(inbound, user('fay'))
      stub.addTraffic('fay', 300, 700)
      stub.addTraffic('dora', 5, 6)
      const uplink = async (name: string) =>
        (await api.readStats()).counters.find((counter) => counter.name === `user>>>${name}>>>traffic>>>uplink`)?.value
      assert.equal(await uplink('fay'), 300)
      await api.removeUser(inbound, 'fay')
      assert.equal(await uplink('fay'), undefined)
      await api.addUser(inbound, user('fay'))
      assert.equal(await uplink('fay'), 0)
      assert.equal(await uplink('dora'), 5, 'the others keep counting')
    },
  )
})
