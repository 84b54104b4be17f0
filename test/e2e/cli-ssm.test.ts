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
})
