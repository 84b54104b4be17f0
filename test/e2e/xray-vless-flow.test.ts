/**
 * Issue 14, item 11 through the real bin/sbq: an Xray VLESS inbound whose `settings.flow` (since Xray 2025-08 the
 * default for clients that name none) is Vision gets users added live with that flow, since a live AddUser gets no
 * inbound default and a Vision inbound refuses a client without one; and no VLESS account carries `encryption`,
 * which Xray refuses on an inbound's users (infra/conf/vless.go: `"encryption" should not in inbound settings`).
 */
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

const vision = 'xtls-rprx-vision'

function visionConfig(): object {
  return {
    inbounds: [
      {
        tag: 'vless-vision',
        listen: '127.0.0.1',
        port: 24443,
        protocol: 'vless',
        // The inbound-level default, and a client that relies on it.
        settings: {
          flow: vision,
          decryption: 'none',
          clients: [{id: '5f3a1c1e-8a40-4d61-9f8e-2f1b1d0a7c11', email: 'operator'}],
        },
      },
    ],
    outbounds: [{protocol: 'freedom'}],
  }
}

describe('Xray VLESS: the inbound-level flow on live add, no encryption on inbound users (real bin/sbq, stub gRPC API)', () => {
  const workspace = tempWorkspace('sbq-vless-flow-')
  const configPath = join(workspace.dir, 'config.json')
  const sbq = (...args: string[]) =>
    runSbq([...args, '--json'], {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
  let stub: StubV2rayApi

  before(async () => {
    writeFileSync(configPath, JSON.stringify(visionConfig(), null, 2))
    stub = await StubV2rayApi.start({flavor: 'xray', inboundTags: ['vless-vision']})
    for (const args of [
      ['user', 'add', 'alice', '--no-apply'],
      [
        'node',
        'add',
        'x',
        '--type',
        'xray',
        '--api',
        stub.address,
        '--config',
        configPath,
        '--inbound',
        'vless-vision',
        '--apply',
        'exit 0',
      ],
    ]) {
      const result = await sbq(...args)
      assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
    }
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it("adds alice live with the inbound's Vision flow and no encryption, and writes the same flow to the config", async () => {
    const synced = await sbq('node', 'sync', 'x')
    assert.equal(synced.code, 0, synced.stderr)
    assert.deepEqual([synced.json[0].method, synced.json[0].added], ['live', ['alice']])
    const account = stub.inbounds.get('vless-vision')!.get('alice')!
    assert.equal(account.accountType, 'xray.proxy.vless.Account')
    assert.equal(account.accountFields.get(2), vision, 'flow (field 2) is the inbound default')
    assert.equal(account.accountFields.has(3), false, 'encryption (field 3) is not set on an inbound user')
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
      inbounds: Array<{settings: {clients: Array<Record<string, unknown>>}}>
    }
    const alice = config.inbounds[0]!.settings.clients.find((client) => client['email'] === 'alice')
    assert.equal(alice?.['flow'], vision)
    assert.equal('encryption' in (alice ?? {}), false)
  })
})
