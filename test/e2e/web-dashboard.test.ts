import assert from 'node:assert/strict'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {dumpDatabase} from '../support/db-dump.js'
import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {startServe, type RunningServe} from '../support/run-serve.js'
import {Client, password} from '../support/web-client.js'

describe('sbq serve without an admin password: no dashboard, the rest keeps working', () => {
  const workspace = tempWorkspace('sbq-web-off-')
  let serve: RunningServe

  before(async () => {
    serve = await startServe(workspace.db, {}, ['--metrics-public'])
  })
  after(async () => {
    await serve?.stop()
    workspace.cleanup()
  })

  it('says how to turn it on, and answers dashboard paths 404', async () => {
    assert.match(
      serve.stderr(),
      /^dashboard off: no admin password is set \(sbq admin set-password, then restart sbq serve\)/m,
    )
    for (const path of ['/', '/login', '/users/alice', '/static/nothing.js']) {
      const response = await fetch(`${serve.base}${path}`, {redirect: 'manual'})
      assert.deepEqual([response.status, await response.text()], [404, 'not found\n'], path)
    }
    // Users' own pages (/u/<token>) are served without the dashboard, and use its stylesheet and script.
    assert.equal((await fetch(`${serve.base}/static/dashboard.js`)).status, 200)
    assert.equal(await (await fetch(`${serve.base}/healthz`)).text(), 'ok\n')
    assert.equal((await fetch(`${serve.base}/metrics`)).status, 200)
  })
})

describe('sbq admin set-password (real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-web-password-')
  after(() => workspace.cleanup())

  it('refuses an empty or short password in one line, exit 2, storing nothing', async () => {
    for (const input of ['', '\n', 'short\n']) {
      const result = await runSbq(['admin', 'set-password', '--password-stdin'], {db: workspace.db, input})
      assert.equal(result.code, 2, result.stderr)
      assert.match(
        result.stderr,
        /^error: admin password (is empty|of \d characters is too short) \(give at least 10 characters[^\n]*\)\n$/,
      )
    }
    assert.deepEqual(dumpDatabase(workspace.db).settings, [])
  })

  it('refuses to prompt when stdin is no terminal', async () => {
    const result = await runSbq(['admin', 'set-password'], {db: workspace.db, input: `${password}\n`})
    assert.equal(result.code, 2)
    assert.match(result.stderr, /stdin is not a terminal \(pipe it in: .*--password-stdin\)/)
  })

  it('stores a scrypt hash, never the password, and answers --json', async () => {
    const result = await runSbq(['admin', 'set-password', '--password-stdin', '--json'], {
      db: workspace.db,
      input: `${password}\n`,
    })
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(result.json, {passwordSet: true, sessionsEnded: 0})
    const dump = JSON.stringify(dumpDatabase(workspace.db))
    assert.ok(!dump.includes(password))
    assert.match(dump, /"value":"scrypt\$32768\$8\$1\$/)
    const config = await runSbq(['config', 'get', '--json'], {db: workspace.db})
    assert.equal(config.code, 0, config.stderr)
    const keys = (config.json as Array<{key: string}>).map((setting) => setting.key)
    assert.ok(keys.includes('timezone'), `config get lists the settings: ${keys.join(', ')}`)
    assert.ok(
      !keys.includes('web-admin-password') && !config.stdout.includes('scrypt'),
      'not listed among the settings',
    )
  })
})

describe('sbq serve with the dashboard: login, sessions, CSRF, headers, rate limit (real bin/sbq, real HTTP)', () => {
  const workspace = tempWorkspace('sbq-web-')
  const sbq = async (...args: string[]) => {
    const result = await runSbq(args, {db: workspace.db})
    assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
    return result
  }
  let serve: RunningServe
  let proxied: RunningServe
  let ipCounter = 0
  /** A client behind the --trust-proxy server, from its own address, so rate limits never cross tests. */
  const viaProxy = (headers: Record<string, string> = {}) =>
    new Client(proxied.base, {'x-forwarded-for': `198.51.100.${++ipCounter}`, ...headers})

  before(async () => {
    const set = await runSbq(['admin', 'set-password', '--password-stdin'], {db: workspace.db, input: password})
    assert.equal(set.code, 0, set.stderr)
    await sbq('user', 'add', 'alice', '--monthly', '10', '--no-apply')
    serve = await startServe(workspace.db, {})
    proxied = await startServe(workspace.db, {}, ['--trust-proxy'])
  })
  after(async () => {
    await serve?.stop()
    await proxied?.stop()
    workspace.cleanup()
  })

  it('logs where the dashboard is', () => {
    assert.match(serve.stderr(), new RegExp(`^dashboard on ${serve.base}/$`, 'm'))
  })

  it('sends security headers: CSP without inline script, no framing, no-store, Server-Timing', async () => {
    const response = await fetch(`${serve.base}/login`)
    assert.equal(response.status, 200)
    const csp = response.headers.get('content-security-policy') ?? ''
    assert.match(csp, /default-src 'none'/)
    assert.match(csp, /script-src 'self'(;|$)/)
    assert.match(csp, /frame-ancestors 'none'/)
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
    assert.equal(response.headers.get('x-frame-options'), 'DENY')
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.match(response.headers.get('server-timing') ?? '', /^app;dur=\d+(\.\d)?$/)
    const page = await response.text()
    assert.deepEqual(page.match(/<script[^>]*>/g), [
      page.match(/<script src="\/static\/dashboard\.js\?v=[0-9a-f]{12}" defer>/)![0],
    ])
  })

  it('serves the script and stylesheet from the package, cached by version', async () => {
    const page = await (await fetch(`${serve.base}/login`)).text()
    const script = /src="(\/static\/dashboard\.js\?v=[0-9a-f]+)"/.exec(page)![1]!
    const response = await fetch(`${serve.base}${script}`)
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8')
    assert.match(response.headers.get('cache-control')!, /immutable/)
    assert.match(await response.text(), /data-confirm/)
    assert.equal((await fetch(`${serve.base}/static/dashboard.css`)).headers.get('cache-control'), 'no-cache')
  })

  it('sends pages to the login without a session, and refuses a POST without one', async () => {
    const response = await fetch(`${serve.base}/users/alice`, {redirect: 'manual'})
    assert.deepEqual([response.status, response.headers.get('location')], [303, '/login'])
    const post = await fetch(`${serve.base}/users/alice/disable`, {
      method: 'POST',
      body: 'reason=x',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
    })
    assert.equal(post.status, 403)
    assert.equal((await sbq('user', 'show', 'alice', '--json')).json.status, 'active')
  })

  it('refuses a wrong password (401) and a login without the form token (403)', async () => {
    const client = new Client(serve.base)
    const wrong = await client.logIn('not the password at all')
    assert.equal(wrong.status, 401)
    assert.match(await wrong.text(), /Wrong password\./)
    assert.equal(client.jar.has('sbq_session'), false)
    const bare = await fetch(`${serve.base}/login`, {
      method: 'POST',
      body: new URLSearchParams({password}).toString(),
      headers: {'content-type': 'application/x-www-form-urlencoded'},
    })
    assert.equal(bare.status, 403)
    assert.equal(
      bare.headers.getSetCookie().some((line) => line.startsWith('sbq_session=')),
      false,
    )
    assert.match(serve.stderr(), /^dashboard: failed login from 127\.0\.0\.1$/m)
  })

  it('logs in with an HttpOnly, SameSite=Strict session cookie, not Secure over plain HTTP', async () => {
    const client = new Client(serve.base)
    const response = await client.logIn()
    assert.deepEqual([response.status, response.headers.get('location')], [303, '/'])
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('sbq_session='))!
    assert.match(cookie, /^sbq_session=[A-Za-z0-9_-]{43}; Path=\/; SameSite=Strict; HttpOnly; Max-Age=604800$/)
    const page = await client.request('/')
    assert.equal(page.status, 200)
    assert.match(await page.text(), /<a class="user-link" href="\/users\/alice">alice<\/a>/)
  })

  it('marks cookies Secure behind a TLS proxy only with --trust-proxy, which believes a loopback peer (the proxy beside sbq)', async () => {
    // Every request here comes from 127.0.0.1, as from a proxy on the same machine: the one peer --trust-proxy trusts
    // (a non-loopback peer is refused in web-security.test.ts). A loopback --listen gives no warning.
    assert.doesNotMatch(proxied.stderr(), /warning: --trust-proxy/)
    const plain = new Client(serve.base, {'x-forwarded-proto': 'https'})
    assert.doesNotMatch((await plain.logIn()).headers.getSetCookie().join('\n'), /Secure/)
    const behindTls = viaProxy({'x-forwarded-proto': 'https'})
    const response = await behindTls.logIn()
    assert.equal(response.status, 303)
    assert.match(
      response.headers.getSetCookie().find((line) => line.startsWith('__Host-sbq_session='))!,
      /; Secure/,
    )
  })

  it("refuses a POST without the session CSRF token or with another session's, and takes it with its own (actor web)", async () => {
    const client = new Client(serve.base)
    await client.logIn()
    const other = new Client(serve.base)
    await other.logIn()
    const before = dumpDatabase(workspace.db).users
    assert.equal((await client.request('/users/alice/disable', {form: {reason: 'forged'}})).status, 403)
    assert.equal(
      (await client.request('/users/alice/disable', {form: {reason: 'forged', _csrf: await other.token('/')}})).status,
      403,
    )
    assert.deepEqual(dumpDatabase(workspace.db).users, before)
    const done = await client.request('/users/alice/disable', {
      form: {reason: 'by hand', _csrf: await client.token('/')},
    })
    assert.deepEqual([done.status, done.headers.get('location')], [303, '/users/alice'])
    const alice = (await sbq('user', 'show', 'alice', '--json')).json
    assert.deepEqual([alice.status, alice.events[0].actor, alice.events[0].reason], ['disabled', 'web', 'by hand'])
    assert.match(await (await client.request('/users/alice')).text(), /alice: active → disabled\./)
    await client.request('/users/alice/enable', {form: {_csrf: await client.token('/')}})
    assert.equal((await sbq('user', 'show', 'alice', '--json')).json.status, 'active')
  })

  it('refuses forms that are not urlencoded, or too large', async () => {
    const client = new Client(serve.base)
    await client.logIn()
    const token = await client.token('/')
    const json = await client.request('/users/alice/reset', {
      method: 'POST',
      body: JSON.stringify({_csrf: token}),
      headers: {'content-type': 'application/json'},
    })
    assert.equal(json.status, 415)
    const huge = await client.request('/users/alice/reset', {form: {_csrf: token, pad: 'x'.repeat(20_000)}})
    assert.equal(huge.status, 413)
  })

  it('rate-limits failed logins per client IP: the sixth try is 429 even with the right password', async () => {
    const attacker = viaProxy()
    for (let attempt = 0; attempt < 5; attempt++)
      assert.equal((await attacker.logIn(`wrong ${attempt} password`)).status, 401)
    const blocked = await attacker.logIn()
    assert.equal(blocked.status, 429)
    assert.ok(Number(blocked.headers.get('retry-after')) > 800)
    assert.match(await blocked.text(), /Too many failed attempts/)
    assert.equal(attacker.jar.has('sbq_session'), false)
    assert.equal((await viaProxy().logIn()).status, 303, 'another address still logs in')
  })

  it('logs out, and the old cookie no longer works', async () => {
    const client = new Client(serve.base)
    await client.logIn()
    const session = client.jar.get('sbq_session')!
    const out = await client.request('/logout', {form: {_csrf: await client.token('/')}})
    assert.deepEqual([out.status, out.headers.get('location')], [303, '/login?m=loggedOut'])
    const replay = await fetch(`${serve.base}/`, {headers: {cookie: `sbq_session=${session}`}, redirect: 'manual'})
    assert.equal(replay.headers.get('location'), '/login?m=expired')
  })

  it('keeps sessions across a restart of sbq serve, and a new password logs everyone out', async () => {
    const client = new Client(serve.base)
    await client.logIn()
    await serve.stop()
    serve = await startServe(workspace.db, {})
    const again = new Client(serve.base)
    again.jar.set('sbq_session', client.jar.get('sbq_session')!)
    assert.equal((await again.request('/')).status, 200, 'the session survived the restart')
    const reset = await runSbq(['admin', 'set-password', '--password-stdin', '--json'], {
      db: workspace.db,
      input: `${password} v2\n`,
    })
    assert.equal(reset.code, 0, reset.stderr)
    assert.ok(reset.json.sessionsEnded >= 1)
    assert.equal((await again.request('/')).status, 303)
    assert.equal((await new Client(serve.base).logIn()).status, 401, 'the old password is refused')
    assert.equal((await new Client(serve.base).logIn(`${password} v2`)).status, 303)
  })

  it('answers in Chinese for Accept-Language zh-CN, and keeps /inform and /healthz as they were', async () => {
    const page = await (await fetch(`${serve.base}/login`, {headers: {'accept-language': 'zh-CN,zh;q=0.9'}})).text()
    assert.match(page, /<html lang="zh-CN">/)
    assert.match(page, /<h1>登录<\/h1>/)
    const inform = await fetch(`${serve.base}/inform/nope`, {method: 'POST', body: '{}'})
    assert.deepEqual([inform.status, await inform.text()], [404, 'not found\n'])
    assert.equal(await (await fetch(`${serve.base}/healthz`)).text(), 'ok\n')
  })
})

describe('a dashboard action with a node that cannot be reached (real bin/sbq, real HTTP)', () => {
  const workspace = tempWorkspace('sbq-web-node-down-')
  let serve: RunningServe

  before(async () => {
    const set = await runSbq(['admin', 'set-password', '--password-stdin'], {db: workspace.db, input: password})
    assert.equal(set.code, 0, set.stderr)
    // Port 1 on loopback: nothing listens there, so the node's API refuses every call. A sing-box SSM node changes
    // users only through its API (a V2Ray node without --config fails earlier, for want of a config to rewrite).
    const node = [
      'node',
      'add',
      'gone',
      '--type',
      'sing-box-ssm',
      '--api',
      'http://127.0.0.1:1',
      '--config',
      join(fixturesDir, 'sing-box-config.json'),
    ]
    for (const args of [node, ['user', 'add', 'bob', '--monthly', '10', '--no-apply']]) {
      const result = await runSbq(args, {db: workspace.db})
      assert.equal(result.code, 0, result.stderr)
    }
    serve = await startServe(workspace.db, {})
  })
  after(async () => {
    await serve?.stop()
    workspace.cleanup()
  })

  it('saves the change and shows the node in a warning box beside the outcome', async () => {
    const client = new Client(serve.base)
    await client.logIn()
    const done = await client.request('/users/bob/disable', {
      form: {reason: 'node down', _csrf: await client.token('/')},
    })
    assert.deepEqual([done.status, done.headers.get('location')], [303, '/users/bob'])
    const show = await runSbq(['user', 'show', 'bob', '--json'], {db: workspace.db})
    assert.deepEqual(
      [show.json.status, show.json.events[0].actor, show.json.events[0].reason],
      ['disabled', 'web', 'node down'],
      'saved although the node was not',
    )
    const page = await (await client.request('/users/bob')).text()
    assert.match(page, /<div class="flash flash-ok" role="status"><p>bob: active → disabled\.<\/p><\/div>/)
    assert.match(
      page,
      /<div class="flash flash-warn" role="alert"><p>Node gone was not updated: ssm api &quot;http:\/\/127\.0\.0\.1:1&quot; is unreachable: ECONNREFUSED[^<]*\. The change is saved; the next check retries the node\.<\/p><\/div>/,
    )
  })
})
