import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {assertJsonError} from '../support/assertions.js'
import {dumpDatabase} from '../support/db-dump.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

describe('sbq node add/set --ratio (stub V2Ray API, real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-node-ratio-')
  const sbq = (...args: string[]) => runSbq([...args, '--json'], {db: workspace.db})
  const plain = (...args: string[]) => runSbq(args, {db: workspace.db})
  let stub: StubV2rayApi

  before(async () => {
    stub = await StubV2rayApi.start({flavor: 'v2ray', inboundTags: ['vmess-in']})
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('node add takes --ratio, 1 by default, and node show says what it bills', async () => {
    const added = await sbq('node', 'add', 'cheap', '--type', 'v2ray', '--api', stub.address, '--ratio', '1.25')
    assert.equal(added.code, 0, added.stderr)
    assert.equal(added.json.ratio, '1.25')
    const plainNode = await sbq('node', 'add', 'plain', '--type', 'v2ray', '--api', stub.address)
    assert.equal(plainNode.json.ratio, '1')
    const shown = await plain('node', 'show', 'cheap')
    assert.match(shown.stdout, /^ratio +1\.25 \(each byte counted bills 1\.25 bytes\)$/m)
    assert.match((await plain('node', 'show', 'plain')).stdout, /^ratio +1 \(each byte billed once\)$/m)
  })

  it('node set --ratio changes it, alone or with --public-host', async () => {
    const set = await sbq('node', 'set', 'cheap', '--ratio', '0.5')
    assert.equal(set.code, 0, set.stderr)
    assert.equal(set.json.ratio, '0.5')
    const both = await sbq('node', 'set', 'cheap', '--ratio', '2.0000', '--public-host', 'vpn.example.com')
    assert.deepEqual([both.json.ratio, both.json.publicHost], ['2', 'vpn.example.com'])
    assert.equal((await sbq('node', 'show', 'cheap')).json.ratio, '2')
    const list = await plain('node', 'list')
    assert.match(list.stdout, /│ node +│ type +│ api +│ config +│ ratio +│ last pull +│ last error +│/)
    assert.match(list.stdout, /│ cheap +│ v2ray +│ [^│]+│ - +│ 2 +│/)
    assert.match(list.stdout, /│ plain +│ v2ray +│ [^│]+│ - +│ 1 +│/)
  })

  it('refuses a bad ratio with one line and exit 2, and changes nothing', async () => {
    const before = dumpDatabase(workspace.db)
    const refusals: Array<[string, RegExp]> = [
      ['0', /^--ratio "0" is not above 0$/],
      ['-1', /^--ratio "-1" is not above 0$/],
      ['half', /^--ratio "half" is not a ratio$/],
      ['0.00001', /^--ratio "0.00001" has more than 4 decimals$/],
      ['1000', /^--ratio "1000" is above 100$/],
    ]
    for (const [value, message] of refusals) {
      assertJsonError(await sbq('node', 'set', 'cheap', `--ratio=${value}`), 2, 'INVALID_RATIO', message)
      assertJsonError(
        await sbq('node', 'add', 'new', '--type', 'v2ray', '--api', stub.address, `--ratio=${value}`),
        2,
        'INVALID_RATIO',
        message,
      )
    }
    const text = await plain('node', 'set', 'cheap', '--ratio', '0', '--public-host', 'other.example.com')
    assert.equal(text.code, 2)
    assert.equal(text.stdout, '')
    assert.equal(
      text.stderr,
      'error: --ratio "0" is not above 0 (give a number above 0 and at most 100 with up to 4 decimals, like 0.5, 1 or 1.25)\n',
    )
    assert.deepEqual(dumpDatabase(workspace.db), before)
  })
})
