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
    assert.deepEqual([switched.status, switched.headers.location], [303, '/x//attacker.example/login'], 'the path on this site, never //attacker.example')
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
    assert.match(warnings[0]!, /only from loopback peers, and --listen 0\.0\.0\.0:0 takes connections from other hosts too \(run the proxy on this machine and listen on 127\.0\.0\.1\)$/)
  })

  it('takes the client address and TLS from the headers of a loopback peer', async () => {
    const client = new Client(serve.base, {'x-forwarded-for': '198.51.100.40', 'x-forwarded-proto': 'https'})
    assert.equal((await client.logIn('not the password at all')).status, 401)
    assert.match(serve.stderr(), /^dashboard: failed login from 198\.51\.100\.40$/m)
    assert.match((await client.logIn()).headers.getSetCookie().join('\n'), /; Secure/)
  })

  it('ignores them from any other peer: its own address is limited, and its cookies are not Secure', {skip: outside === undefined && 'this machine has no non-loopback IPv4 address'}, async () => {
    const port = new URL(serve.base).port
    const client = new Client(`http://${outside}:${port}`, {'x-forwarded-for': '198.51.100.41', 'x-forwarded-proto': 'https'})
    assert.equal((await client.logIn('not the password at all')).status, 401)
    assert.match(serve.stderr(), new RegExp(`^dashboard: failed login from ${outside!.replaceAll('.', '\\.')}$`, 'm'))
    assert.doesNotMatch(serve.stderr(), /failed login from 198\.51\.100\.41/)
    const response = await client.logIn()
    assert.equal(response.status, 303)
    assert.doesNotMatch(response.headers.getSetCookie().join('\n'), /Secure/)
  })
})
