import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {SbqError} from '../../src/lib/errors.js'
import {threeXUiDriver} from '../../src/lib/proxies/3x-ui/index.js'
import {openPanel} from '../../src/lib/proxies/3x-ui/panel-client.js'
import {bob} from '../support/fixture-users.js'
import {StubPanel, type StubPanelVersion} from '../support/stub-3x-ui-panel.js'

const generationOf = (version: StubPanelVersion) => (version === '2.9' ? 'v2' : 'v3')

for (const version of ['2.9', '3.6'] as const) {
  describe(`3x-ui panel client against a stub panel v${version}`, () => {
    const panel = new StubPanel('/x7Kq2', version)
    const credentials = () => ({url: panel.url, user: 'admin', password: 's3cret'})

    before(() => panel.start())
    after(() => panel.server.close())

    it('logs in, telling the generation, and lists clients per inbound, under the web base path', async () => {
      const client = await openPanel(credentials())
      try {
        assert.equal(client.generation, generationOf(version))
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

    it('switches the clients that differ, sends every other field back, and leaves the rest alone', async () => {
      const alice = {...panel.client('alice')}
      const client = await openPanel(credentials())
      try {
        const from = panel.calls.length
        const outcome = await client.setEnabled(
          new Map<string, () => boolean>([
            ['alice', () => false],
            ['bob', () => false],
            ['carol', () => true],
            ['guest', () => true],
            ['nobody', () => false],
          ]),
        )
        assert.deepEqual(outcome.switched.sort(), ['alice', 'bob', 'carol'])
        assert.deepEqual([...outcome.missing], ['nobody'])
        assert.deepEqual(
          panel.apiCalls(from),
          version === '2.9'
            ? [
                'GET /panel/api/inbounds/list',
                `POST /panel/api/inbounds/updateClient/${String(alice.id)}`,
                'POST /panel/api/inbounds/updateClient/pw-bob',
                'POST /panel/api/inbounds/updateClient/carol',
              ]
            : [
                'GET /panel/api/inbounds/list',
                'POST /panel/api/clients/bulkDisable',
                'POST /panel/api/clients/bulkEnable',
              ],
        )
      } finally {
        client.close()
      }
      const {updated_at: stamp, ...aliceAfter} = panel.client('alice')!
      assert.deepEqual(aliceAfter, {...alice, enable: false})
      assert.equal(stamp !== undefined, version !== '2.9', 'v3 stamps the switched client')
      assert.equal(panel.client('bob')!.enable, false)
      assert.equal(panel.client('bob')!.expiryTime, 1735689600000)
      assert.equal(panel.client('carol')!.enable, true)
      assert.equal(panel.client('guest')!.enable, true)
    })

    it('a refused login is exit 4 in one line, without the password', async () => {
      await assert.rejects(openPanel({...credentials(), password: 'wrong'}), (error: unknown) => {
        assert.ok(error instanceof SbqError)
        assert.equal([error.code, error.exit].join(' '), 'PANEL_LOGIN_FAILED 4')
        assert.match(error.message, /refused the login of "admin": Invalid username or password/)
        assert.doesNotMatch(error.message, /wrong/)
        return true
      })
    })

    it('a wrong web base path says what was tried and the fix; a panel that is down is exit 4 too', async () => {
      await assert.rejects(openPanel({...credentials(), url: panel.url.replace('/x7Kq2', '/nope')}), (error) => {
        assert.ok(error instanceof SbqError)
        assert.equal([error.code, error.exit].join(' '), 'PANEL_UNKNOWN_API 4')
        assert.equal(
          error.message,
          `3x-ui panel "${panel.url.replace('/x7Kq2', '/nope')}" answered neither as 3x-ui v3 (GET /csrf-token: HTTP 404) nor as v2 (POST /login: HTTP 404)`,
        )
        assert.match(error.hint ?? '', /web base path/)
        return true
      })
      await assert.rejects(
        openPanel({...credentials(), url: 'http://127.0.0.1:1'}),
        (error: unknown) => error instanceof SbqError && error.exit === 4 && /cannot be reached/.test(error.message),
      )
    })
  })
}

describe('3x-ui v3 panels: CSRF, bulk calls, older v3 routes', () => {
  const panels = {
    '3.0': new StubPanel('/p30', '3.0'),
    '3.4': new StubPanel('/p34', '3.4'),
    '3.6': new StubPanel('/p36', '3.6'),
  }
  const open = (panel: StubPanel) => openPanel({url: panel.url, user: 'admin', password: 's3cret'})
  const offAll = (emails: string[]) => new Map(emails.map((email) => [email, () => false]))

  before(() => Promise.all(Object.values(panels).map((panel) => panel.start())))
  after(() => Object.values(panels).forEach((panel) => panel.server.close()))

  it('the v3 stub follows upstream: no login without the CSRF token, no v2 updateClient route', async () => {
    const panel = panels['3.6']
    const login = await fetch(`${panel.url}/login`, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: 'username=admin&password=s3cret',
    })
    assert.equal(login.status, 403, 'a login without the token')
    // A session as a browser makes one: the token first, then the login and every POST carrying it.
    const token = await fetch(`${panel.url}/csrf-token`)
    const {obj: csrf} = (await token.json()) as {obj: string}
    let cookie = token.headers.get('set-cookie')!.split(';')[0]!
    const post = (path: string, body: string, type: string, headers: Record<string, string> = {}) =>
      fetch(`${panel.url}${path}`, {method: 'POST', headers: {cookie, 'content-type': type, ...headers}, body})
    const wrongToken = await post('/login', 'username=admin&password=s3cret', 'application/x-www-form-urlencoded', {
      'x-csrf-token': 'not-the-token',
    })
    assert.equal(wrongToken.status, 403, 'a login with another token')
    const loggedIn = await post('/login', 'username=admin&password=s3cret', 'application/x-www-form-urlencoded', {
      'x-csrf-token': csrf,
    })
    assert.equal(((await loggedIn.json()) as {success: boolean}).success, true)
    cookie = loggedIn.headers.get('set-cookie')!.split(';')[0]!
    const body = JSON.stringify({emails: ['alice']})
    assert.equal((await post('/panel/api/clients/bulkDisable', body, 'application/json')).status, 403, 'no token')
    const old = await post('/panel/api/inbounds/updateClient/x', '{}', 'application/json', {'x-csrf-token': csrf})
    assert.equal(old.status, 404, 'the v2 route is gone')
    assert.equal(panel.client('alice')!.enable, true, 'nothing was switched')
  })

  it('a batch of N limited users costs one bulk call, however many inbounds they are on', async () => {
    const panel = panels['3.6']
    // A v3 client may be attached to several inbounds: bob on the vless inbound as well.
    panel.inbounds[0]!.clients.push({...panel.client('bob')!, id: 'bob-vless-id'})
    const client = await open(panel)
    try {
      const from = panel.calls.length
      const outcome = await client.setEnabled(offAll(['alice', 'bob', 'guest']))
      assert.deepEqual(outcome.switched.sort(), ['alice', 'bob', 'guest'])
      assert.deepEqual(panel.apiCalls(from), ['GET /panel/api/inbounds/list', 'POST /panel/api/clients/bulkDisable'])
      assert.deepEqual(
        panel.entries('bob').map((entry) => entry.enable),
        [false, false],
        'bob is off on both his inbounds',
      )
    } finally {
      client.close()
    }
  })

  it('a client on several v3 inbounds stays off unless all are chosen, and says which are not', async () => {
    const panel = panels['3.6']
    const client = await open(panel)
    try {
      const onlyTrojan = await client.setEnabled(
        new Map([['bob', (tag: string | undefined) => tag === 'inbound-8443']]),
      )
      assert.deepEqual(onlyTrojan.switched, [], 'bob was off and stays off')
      assert.deepEqual(onlyTrojan.keptOff, [{email: 'bob', tags: ['inbound-443']}])
      const node = {
        ...{name: 'de1', type: '3x-ui', api: '', config_path: null, inbounds: null, apply_command: null},
        ...{cut_sessions: 0, panel_url: panel.url, panel_user: 'admin', panel_password: 's3cret'},
      }
      const bobOnTrojan = {...bob, inbounds: ['inbound-8443']}
      const outcome = await threeXUiDriver.applyUsers(
        {node, added: [bobOnTrojan], removed: [], active: [bobOnTrojan], managed: new Set(['bob'])},
        {pullNode: async () => {}, validateAlways: false},
      )
      assert.equal(
        outcome.warning,
        'kept off, as 3x-ui v3 switches a client on all its inbounds at once and these are also on inbounds their choice leaves out: bob (inbound-443) (detach them there in the panel)',
      )
      const both = await client.setEnabled(new Map([['bob', () => true]]))
      assert.deepEqual([both.switched, both.keptOff], [['bob'], []])
      assert.deepEqual(
        panel.entries('bob').map((entry) => entry.enable),
        [true, true],
      )
    } finally {
      client.close()
    }
  })

  for (const [version, route] of [
    ['3.4', 'POST /panel/api/clients/update/carol'],
    ['3.0', 'POST /panel/api/inbounds/updateClient/carol'],
  ] as const) {
    it(`v${version} has no bulk route: a 404 from each newer route the first time, then its own route straight away`, async () => {
      const panel = panels[version]
      const first = await open(panel)
      let from = panel.calls.length
      try {
        assert.equal(first.generation, 'v3')
        await first.setEnabled(new Map([['carol', () => true]]))
      } finally {
        first.close()
      }
      assert.equal(panel.client('carol')!.enable, true)
      assert.equal(panel.client('carol')!.password, 'k', 'the credential is kept')
      assert.deepEqual(panel.apiCalls(from), [
        'GET /panel/api/inbounds/list',
        'POST /panel/api/clients/bulkEnable',
        ...(version === '3.0' ? ['POST /panel/api/clients/update/carol'] : []),
        route,
      ])
      const second = await open(panel)
      from = panel.calls.length
      try {
        await second.setEnabled(new Map([['carol', () => false]]))
      } finally {
        second.close()
      }
      assert.deepEqual(panel.apiCalls(from), ['GET /panel/api/inbounds/list', route])
      assert.equal(panel.client('carol')!.enable, false)
    })
  }
})
