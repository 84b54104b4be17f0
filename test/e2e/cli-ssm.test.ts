import assert from 'node:assert/strict'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubSsmApi} from '../support/stub-ssm-api.js'

describe('a sing-box SSM node (stub SSM API, real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-ssm-')
  const sbq = (...args: string[]) => runSbq([...args, '--json'], {db: workspace.db})
  let stub: StubSsmApi

  before(async () => {
    stub = await StubSsmApi.start()
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('puts users on the server with the key length of the managed inbound\'s method, and takes them off', async () => {
    // The fixture's managed inbound uses 2022-blake3-aes-128-gcm: users need the 16-byte key.
    const node = await sbq('node', 'add', 'ssm', '--type', 'sing-box-ssm', '--api', stub.baseUrl, '--config', join(fixturesDir, 'sing-box-config.json'))
    assert.equal(node.code, 0, node.stderr)
    const added = await sbq('user', 'add', 'carol')
    assert.equal(added.code, 0, added.stderr)
    assert.deepEqual(added.json.nodes.map((sync: {name: string; method: string; error: string | null}) => [sync.name, sync.method, sync.error]), [['ssm', 'api', null]])
    assert.equal(stub.users.get('carol')?.uPSK, added.json.credentials.password16)
    assert.equal(Buffer.from(stub.users.get('carol')!.uPSK, 'base64').length, 16)

    const disabled = await sbq('user', 'disable', 'carol')
    assert.equal(disabled.code, 0, disabled.stderr)
    assert.equal(stub.users.has('carol'), false)
  })

  it('notices that a sing-box restart emptied the user list, and the next check puts every active user back', async () => {
    for (const name of ['dora', 'emil']) assert.equal((await sbq('user', 'add', name)).code, 0)
    assert.deepEqual([...stub.users.keys()].sort(), ['dora', 'emil'])
    stub.restart()
    const check = await sbq('check')
    assert.equal(check.code, 0, check.stderr)
    assert.deepEqual([...stub.users.keys()].sort(), ['dora', 'emil'], 'both back without sbq node sync')
    const again = await sbq('check')
    assert.deepEqual(again.json.nodes.map((sync: {method: string}) => sync.method), ['none'], 'and a check with nothing lost changes nothing')
  })
})
