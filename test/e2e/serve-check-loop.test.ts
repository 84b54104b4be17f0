import assert from 'node:assert/strict'
import {setTimeout as sleep} from 'node:timers/promises'
import {after, before, describe, it} from 'node:test'

import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {startServe, type RunningServe} from '../support/run-serve.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

describe('sbq serve --check-every runs the check in-process (stub V2Ray API, real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-serve-check-')
  const sbq = (...args: string[]) => runSbq([...args, '--json'], {db: workspace.db})
  let stub: StubV2rayApi
  let serve: RunningServe | undefined

  before(async () => {
    stub = await StubV2rayApi.start({flavor: 'v2ray'})
    assert.equal((await sbq('user', 'add', 'alice', '--monthly', '1M', '--no-apply')).code, 0)
    assert.equal((await sbq('node', 'add', 'v1', '--type', 'v2ray', '--api', stub.address)).code, 0)
    assert.equal((await sbq('stats', 'pull')).code, 0)
    stub.addTraffic('alice', 0, 2 * 1024 * 1024)
  })

  after(async () => {
    await serve?.stop()
    await stub.close()
    workspace.cleanup()
  })

  it('the first check runs at start: it pulls and limits the user over quota', async () => {
    serve = await startServe(workspace.db, {}, ['--check-every', '10s', '--metrics-public'])
    let status = 'active'
    for (let attempt = 0; attempt < 50 && status !== 'limited'; attempt++) {
      await sleep(100)
      status = (await sbq('user', 'show', 'alice')).json.status
    }
    assert.equal(status, 'limited')
    assert.match(serve.stderr(), /checking every 10s/)
    assert.match(serve.stderr(), /user "alice": active → limited/)
    assert.equal(await serve.stop(), 0, 'stops cleanly on SIGTERM')
    serve = undefined
  })
})
