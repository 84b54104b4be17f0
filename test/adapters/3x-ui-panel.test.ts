import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {SbqError} from '../../src/lib/errors.js'
import {openPanel} from '../../src/lib/proxies/3x-ui/panel-client.js'
import {StubPanel} from '../support/stub-3x-ui-panel.js'

describe('3x-ui panel client against a stub panel', () => {
  const panel = new StubPanel('/x7Kq2')
  const credentials = () => ({url: panel.url, user: 'admin', password: 's3cret'})

  before(() => panel.start())
  after(() => panel.server.close())

  it('logs in with the form and lists clients per inbound, under the web base path', async () => {
    const client = await openPanel(credentials())
    try {
      const clients = await client.listClients()
      assert.deepEqual(
        clients.map((entry) => [entry.inboundId, entry.protocol, entry.email, entry.enable]),
        [
          [1, 'vless', 'alice', true],
          [1, 'vless', 'guest', true],
          [2, 'trojan', 'bob', true],
          [3, 'shadowsocks', 'carol', false],
        ],
      )
    } finally {
      client.close()
    }
  })

  it('switches clients by their protocol key, sends every other field back, and leaves the rest alone', async () => {
    const alice = {...panel.client('alice')}
    const client = await openPanel(credentials())
    try {
      panel.calls.length = 0
      const outcome = await client.setEnabled(
        new Map<string, () => boolean>([
          ['alice', () => false],
          ['bob', () => false],
          ['carol', () => true],
          ['guest', () => true],
          ['nobody', () => false],
        ]),
      )
      assert.deepEqual(outcome.switched, ['alice', 'bob', 'carol'])
      assert.deepEqual([...outcome.missing], ['nobody'])
    } finally {
      client.close()
    }
    assert.deepEqual(panel.client('alice'), {...alice, enable: false})
    assert.equal(panel.client('bob')!.enable, false)
    assert.equal(panel.client('bob')!.expiryTime, 1735689600000)
    assert.equal(panel.client('carol')!.enable, true)
    assert.equal(panel.client('guest')!.enable, true)
    assert.deepEqual(panel.calls, [
      'GET /panel/api/inbounds/list',
      `POST /panel/api/inbounds/updateClient/${alice.id}`,
      'POST /panel/api/inbounds/updateClient/pw-bob',
      'POST /panel/api/inbounds/updateClient/carol',
    ])
  })

  it('a refused login is exit 4 in one line, without the password', async () => {
    await assert.rejects(openPanel({...credentials(), password: 'wrong'}), (error: unknown) => {
      assert.ok(error instanceof SbqError)
      assert.equal(error.exit, 4)
      assert.match(error.message, /refused the login of "admin": Invalid username or password/)
      assert.doesNotMatch(error.message, /wrong/)
      return true
    })
  })

  it('a wrong web base path is exit 4, and so is a panel that is down', async () => {
    await assert.rejects(
      openPanel({...credentials(), url: panel.url.replace('/x7Kq2', '/nope')}),
      (error: unknown) => error instanceof SbqError && error.exit === 4,
    )
    await assert.rejects(
      openPanel({...credentials(), url: 'http://127.0.0.1:1'}),
      (error: unknown) => error instanceof SbqError && error.exit === 4 && /cannot be reached/.test(error.message),
    )
  })
})
