import assert from 'node:assert/strict'
import {copyFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace, type SbqResult} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

const runs = 40
const atOnce = 4

describe(`${runs} overlapping checks, ${atOnce} at a time, hand the lock over (stub V2Ray API, real bin/sbq)`, () => {
  const workspace = tempWorkspace('sbq-check-lock-')
  const env = {SBQ_NOW: '2024-05-20T12:00:00Z'}
  let stub: StubV2rayApi

  before(async () => {
    stub = await StubV2rayApi.start({flavor: 'v2ray'})
    for (const name of ['alice', 'bob', 'carol'])
      assert.equal(
        (await runSbq(['user', 'add', name, '--monthly', '10G', '--no-apply'], {db: workspace.db, env})).code,
        0,
      )
    const config = join(workspace.dir, 'v2ray.json')
    copyFileSync(join(fixturesDir, 'v2ray-config.json'), config)
    const node = await runSbq(
      ['node', 'add', 'v1', '--type', 'v2ray', '--api', stub.address, '--config', config, '--apply', 'true'],
      {db: workspace.db, env},
    )
    assert.equal(node.code, 0, node.stderr)
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('every run exits 0: it ran, or it said who holds the lock', async () => {
    const results: SbqResult[] = []
    let next = 0
    const lane = async () => {
      while (next < runs) {
        next++
        stub.addTraffic('alice', 1, 1000)
        results.push(await runSbq(['check'], {db: workspace.db, env}))
      }
    }
    await Promise.all(Array.from({length: atOnce}, lane))
    assert.equal(results.length, runs)
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /^(another sbq check \(pid \d+ on [^\n]+\) holds the lock of node "v1"\n)?$/)
    }
  })
})
