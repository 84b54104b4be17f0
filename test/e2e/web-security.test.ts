import assert from 'node:assert/strict'
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
