import assert from 'node:assert/strict'
import {networkInterfaces} from 'node:os'
import {after, before, describe, it} from 'node:test'

import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {startServe, type RunningServe} from '../support/run-serve.js'
import {Client, password, rawRequest} from '../support/web-client.js'

describe('dashboard redirects stay on the site (real bin/sbq, real HTTP)', () => {
  const workspace = tempWorkspace('sbq-web-redirect-')
  let serve: RunningServe

  before(async () => {
    const set = await runSbq(['admin', 'set-password', '--password-stdin'], {db: workspace.db, input: password})
    assert.equal(set.code, 0, set.stderr)
    serve = await startServe(workspace.db, {})
  })
  after(async () => {
    await serve?.stop()
    workspace.cleanup()
  })

  it('never answers a Location that names another host, logged in or not', async () => {
    const client = new Client(serve.base)
    assert.equal((await client.logIn()).status, 303)
    const targets = [
      '//x//attacker.example/login?lang=en',
      '//attacker.example/login?lang=en',
      '/x/..//attacker.example/login?lang=en',
      '/\\attacker.example/login?lang=en',
      '/%2f%2fattacker.example/login?lang=en',
      '//attacker.example/',
    ]
    for (const cookie of [undefined, [...client.jar].map(([name, value]) => `${name}=${value}`).join('; ')]) {
      for (const target of targets) {
        const response = await rawRequest(serve.base, target, cookie === undefined ? {} : {cookie})
        const location = response.headers.location as string | undefined
        assert.ok([303, 404].includes(response.status), `${target}: ${response.status}`)
        if (location !== undefined) assert.match(location, /^\/(?![/\\])/, `${target} → ${location}`)
        assert.doesNotMatch(response.body, /href="\/\/|href="\/\\/, `${target}: a link naming another host`)
      }
    }
    const switched = await rawRequest(serve.base, '//x//attacker.example/login?lang=en')
    assert.deepEqual(
      [switched.status, switched.headers.location],
      [303, '/x//attacker.example/login'],
      'the path on this site, never //attacker.example',
    )
  })
})

describe('--trust-proxy believes forwarding headers only from loopback (real bin/sbq, real HTTP)', () => {
  const workspace = tempWorkspace('sbq-web-proxy-')
  let serve: RunningServe
  /** This machine's own non-loopback address, if it has one: a peer that is not loopback without leaving the host. */
  const outside = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry !== undefined && !entry.internal && entry.family === 'IPv4')?.address

  before(async () => {
    const set = await runSbq(['admin', 'set-password', '--password-stdin'], {db: workspace.db, input: password})
    assert.equal(set.code, 0, set.stderr)
    serve = await startServe(workspace.db, {}, ['--trust-proxy'], '0.0.0.0:0')
  })
  after(async () => {
    await serve?.stop()
    workspace.cleanup()
  })

  it('warns once at start that --listen is not loopback', () => {
    const warnings = serve.stderr().match(/^warning: --trust-proxy .*$/gm) ?? []
    assert.equal(warnings.length, 1, serve.stderr())
    assert.match(
      warnings[0]!,
      /only from loopback peers, and --listen 0\.0\.0\.0:0 takes connections from other hosts too \(run the proxy on this machine and listen on 127\.0\.0\.1\)$/,
    )
  })

  it('takes the client address and TLS from the headers of a loopback peer', async () => {
    const client = new Client(serve.base, {'x-forwarded-for': '198.51.100.40', 'x-forwarded-proto': 'https'})
    assert.equal((await client.logIn('not the password at all')).status, 401)
    assert.match(serve.stderr(), /^dashboard: failed login from 198\.51\.100\.40$/m)
    assert.match((await client.logIn()).headers.getSetCookie().join('\n'), /; Secure/)
  })

  it(
    'ignores them from any other peer: its own address is limited, and its cookies are not Secure',
    {skip: outside === undefined && 'this machine has no non-loopback IPv4 address'},
    async () => {
      const port = new URL(serve.base).port
      const client = new Client(`http://${outside}:${port}`, {
        'x-forwarded-for': '198.51.100.41',
        'x-forwarded-proto': 'https',
      })
      assert.equal((await client.logIn('not the password at all')).status, 401)
      assert.match(serve.stderr(), new RegExp(`^dashboard: failed login from ${outside!.replaceAll('.', '\\.')}$`, 'm'))
      assert.doesNotMatch(serve.stderr(), /failed login from 198\.51\.100\.41/)
      const response = await client.logIn()
      assert.equal(response.status, 303)
      assert.doesNotMatch(response.headers.getSetCookie().join('\n'), /Secure/)
    },
  )
})

describe('dashboard sessions and cookies: HEAD, logging in again, __Host- (real bin/sbq, real HTTP)', () => {
  const workspace = tempWorkspace('sbq-web-session-')
  let serve: RunningServe
  let ipCounter = 0
  /** A browser behind the TLS proxy (loopback, so --trust-proxy believes it), from an address of its own. */
  const behindTls = () =>
    new Client(serve.base, {'x-forwarded-proto': 'https', 'x-forwarded-for': `198.51.100.${++ipCounter}`})

  before(async () => {
    const set = await runSbq(['admin', 'set-password', '--password-stdin'], {db: workspace.db, input: password})
    assert.equal(set.code, 0, set.stderr)
    assert.equal((await runSbq(['user', 'add', 'alice', '--monthly', '10', '--no-apply'], {db: workspace.db})).code, 0)
    serve = await startServe(workspace.db, {}, ['--trust-proxy'])
  })
  after(async () => {
    await serve?.stop()
    workspace.cleanup()
  })

  it('leaves the one-time message for the GET after a HEAD', async () => {
    const client = new Client(serve.base)
    await client.logIn()
    const done = await client.request('/users/alice/disable', {
      form: {reason: 'head test', _csrf: await client.token('/')},
    })
    assert.equal(done.status, 303)
    const head = await client.request('/users/alice', {method: 'HEAD'})
    assert.equal(head.status, 200)
    assert.match(
      await (await client.request('/users/alice')).text(),
      /alice: active → disabled\./,
      'the HEAD did not use it up',
    )
    assert.doesNotMatch(await (await client.request('/users/alice')).text(), /alice: active → disabled\./, 'shown once')
    await client.request('/users/alice/enable', {form: {_csrf: await client.token('/')}})
  })

  it("ends the browser's previous session when it logs in again, and no other browser's", async () => {
    const client = new Client(serve.base)
    const other = new Client(serve.base)
    await client.logIn()
    await other.logIn()
    const first = client.jar.get('sbq_session')!
    // A logged-in browser is sent away from /login, so the form comes from another tab's earlier visit.
    const tab = new Client(serve.base)
    const token = await tab.token('/login')
    client.jar.set('sbq_login', tab.jar.get('sbq_login')!)
    assert.equal((await client.request('/login', {form: {_csrf: token, password}})).status, 303)
    const second = client.jar.get('sbq_session')!
    assert.notEqual(second, first)
    const replay = await fetch(`${serve.base}/`, {headers: {cookie: `sbq_session=${first}`}, redirect: 'manual'})
    assert.deepEqual(
      [replay.status, replay.headers.get('location')],
      [303, '/login?m=expired'],
      'the first session is gone',
    )
    assert.equal((await client.request('/')).status, 200)
    assert.equal((await other.request('/')).status, 200)
  })

  it('names Secure cookies with the __Host- prefix (Path=/, no Domain), and plain-HTTP ones without it', async () => {
    const client = behindTls()
    const form = await client.request('/login')
    assert.match(
      form.headers.getSetCookie().join('\n'),
      /^__Host-sbq_login=[A-Za-z0-9_-]{43}; Path=\/; SameSite=Strict; HttpOnly; Secure; Max-Age=3600$/m,
    )
    await form.text()
    const login = await client.logIn()
    assert.equal(login.status, 303)
    const cookies = login.headers.getSetCookie()
    assert.ok(
      cookies.length > 0 &&
        cookies.every(
          (line) =>
            line.startsWith('__Host-') && /; Path=\/;/.test(line) && /; Secure/.test(line) && !/Domain=/i.test(line),
        ),
      cookies.join('\n'),
    )
    assert.match(
      cookies.join('\n'),
      /^__Host-sbq_session=[A-Za-z0-9_-]{43}; Path=\/; SameSite=Strict; HttpOnly; Secure; Max-Age=604800$/m,
    )
    assert.equal((await client.request('/')).status, 200, 'the prefixed cookie is the session')
    const lang = await client.request('/?lang=zh-CN')
    assert.match(
      lang.headers.getSetCookie().join('\n'),
      /^__Host-sbq_lang=zh-CN; Path=\/; SameSite=Strict; HttpOnly; Secure; Max-Age=31536000$/m,
    )
    assert.match(await (await client.request('/')).text(), /<html lang="zh-CN">/)
    const bare = await fetch(`${serve.base}/`, {
      headers: {cookie: `sbq_session=${client.jar.get('__Host-sbq_session')}`, 'x-forwarded-proto': 'https'},
      redirect: 'manual',
    })
    assert.equal(bare.headers.get('location'), '/login', 'over TLS only the prefixed name counts')

    const plain = new Client(serve.base)
    await plain.logIn()
    assert.deepEqual([...plain.jar.keys()], ['sbq_session'])
  })
})
