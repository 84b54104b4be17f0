import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {startServe, type RunningServe} from '../support/run-serve.js'
import {parseShareLink} from '../support/share-link-parser.js'
import {StubPanel, stubRealityPrivateKey, type StubPanelVersion} from '../support/stub-3x-ui-panel.js'
import {realityPublicKey} from '../../src/lib/proxies/shared/xray-stream.js'

const MiB = 1024 * 1024

/** The last v2 release and a v3 one with the bulk client routes: the same commands must do the same on both. */
const versions: readonly StubPanelVersion[] = ['2.9', '3.6']

for (const version of versions)
  describe(`sbq check switches 3x-ui clients off and on through the panel (real bin/sbq, sbq serve, stub panel v${version})`, () => {
    const workspace = tempWorkspace('sbq-panel-')
    const env = {SBQ_NOW: '2024-05-20T12:00:00Z', SBQ_PANEL_PASSWORD: 's3cret'}
    const sbq = (...args: string[]) => runSbq([...args, '--json'], {db: workspace.db, env})
    const panel = new StubPanel('/x7Kq2', version)
    let serve: RunningServe
    let informUri: string

    before(async () => {
      await panel.start()
      for (const args of [
        ['config', 'set', 'timezone', 'UTC'],
        ['user', 'add', 'alice', '--monthly', '1M', '--no-apply'],
        ['user', 'add', 'bob', '--monthly', '1G', '--no-apply'],
      ]) {
        const result = await sbq(...args)
        assert.equal(result.code, 0, result.stderr)
      }
      serve = await startServe(workspace.db, env)
      const node = await sbq(
        'node',
        'add',
        'de1',
        '--type',
        '3x-ui',
        '--public-url',
        serve.base,
        '--panel-url',
        panel.url,
        '--panel-user',
        'admin',
      )
      assert.equal(node.code, 0, node.stderr)
      informUri = node.json.informUri
    })

    after(async () => {
      await serve?.stop()
      panel.server.close()
      workspace.cleanup()
    })

    it('a user over quota on the panel is switched off there, every other client keeps its state', async () => {
      const report = await fetch(informUri, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({
          clientTraffics: [
            {email: 'alice', up: 0, down: 2 * MiB},
            {email: 'bob', up: 10, down: 10},
          ],
        }),
      })
      assert.equal(report.status, 200)
      const guestBefore = {...panel.client('guest')}
      const from = panel.calls.length
      const check = await sbq('check')
      assert.equal(check.code, 0, check.stderr)
      assert.deepEqual(
        check.json.changes.map((change: {user: string; to: string}) => [change.user, change.to]),
        [['alice', 'limited']],
      )
      const de1 = check.json.nodes.find((node: {name: string}) => node.name === 'de1')
      assert.deepEqual([de1.method, de1.error], ['panel', null])
      assert.equal(panel.client('alice')!.enable, false)
      assert.equal(panel.client('alice')!.flow, 'xtls-rprx-vision', 'the rest of the client is sent back as it was')
      assert.equal(panel.client('bob')!.enable, true)
      assert.deepEqual(panel.client('guest'), guestBefore, 'a client sbq does not manage is left alone')
      assert.deepEqual(
        panel.apiCalls(from).map((call) => call.replace(/updateClient\/.*/, 'updateClient/ID')),
        [
          'GET /panel/api/inbounds/list',
          version === '2.9' ? 'POST /panel/api/inbounds/updateClient/ID' : 'POST /panel/api/clients/bulkDisable',
        ],
      )
      const quiet = await sbq('check')
      assert.deepEqual(
        quiet.json.nodes.map((node: {method: string}) => node.method),
        ['none'],
        'nothing to do the next minute',
      )
    })

    it('sbq reset puts them back on through the panel', async () => {
      const reset = await sbq('reset', 'alice')
      assert.equal(reset.code, 0, reset.stderr)
      assert.equal(panel.client('alice')!.enable, true)
    })

    it('a batch of users limited in one check costs one panel call on v3, one per client on v2', async () => {
      const report = await fetch(informUri, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({
          clientTraffics: [
            {email: 'alice', up: 0, down: 2 * MiB},
            {email: 'bob', up: 0, down: 2 * 1024 * MiB},
          ],
        }),
      })
      assert.equal(report.status, 200)
      const from = panel.calls.length
      const check = await sbq('check')
      assert.equal(check.code, 0, check.stderr)
      assert.deepEqual(
        check.json.changes.map((change: {user: string; to: string}) => [change.user, change.to]).sort(),
        [
          ['alice', 'limited'],
          ['bob', 'limited'],
        ],
      )
      assert.deepEqual([panel.client('alice')!.enable, panel.client('bob')!.enable], [false, false])
      const switches = panel.apiCalls(from).filter((call) => call.startsWith('POST '))
      assert.deepEqual(
        switches.map((call) => call.replace(/updateClient\/.*/, 'updateClient/ID')),
        version === '2.9'
          ? ['POST /panel/api/inbounds/updateClient/ID', 'POST /panel/api/inbounds/updateClient/ID']
          : ['POST /panel/api/clients/bulkDisable'],
      )
      for (const user of ['alice', 'bob']) assert.equal((await sbq('reset', user)).code, 0)
      assert.deepEqual([panel.client('alice')!.enable, panel.client('bob')!.enable], [true, true])
    })

    it("prints share links read from the panel's inbounds, with the panel's own credentials for each client", async () => {
      assert.equal((await sbq('node', 'set', 'de1', '--public-host', 'vpn.example.com')).code, 0)
      const linkOf = async (user: string) => {
        const shown = await sbq('user', 'link', user, '--node', 'de1')
        assert.equal(shown.code, 0, shown.stderr)
        const [entry, ...rest] = shown.json.nodes[0].links
        assert.deepEqual(rest, [], 'one client, one inbound')
        return {tag: entry.tag as string, link: parseShareLink(entry.link as string)}
      }
      const alice = await linkOf('alice')
      assert.equal(alice.tag, 'inbound-443')
      assert.deepEqual(
        [alice.link.scheme, alice.link.secret, alice.link.host, alice.link.port],
        ['vless', panel.client('alice')!.id, 'vpn.example.com', 443],
        "the panel client's id, not the one sbq made",
      )
      assert.deepEqual(
        [alice.link.params.security, alice.link.params.sni, alice.link.params.sid, alice.link.params.flow],
        ['reality', 'www.example.com', '0123456789abcdef', 'xtls-rprx-vision'],
      )
      assert.equal(alice.link.params.pbk, realityPublicKey(stubRealityPrivateKey))
      const bob = await linkOf('bob')
      assert.deepEqual(
        [bob.tag, bob.link.scheme, bob.link.secret, bob.link.port, bob.link.params.security, bob.link.params.sni],
        ['inbound-8443', 'trojan', 'pw-bob', 8443, 'tls', 'vpn.example.com'],
      )
      const sub = await sbq('user', 'link', 'bob')
      assert.equal(sub.code, 0)
      const clash = await fetch(`${serve.base}${sub.json.subscription.path}?format=clash`)
      const proxies = (JSON.parse(await clash.text()) as {proxies: Array<{type: string; password?: string}>}).proxies
      assert.deepEqual(
        proxies.map((proxy) => [proxy.type, proxy.password]),
        [['trojan', 'pw-bob']],
        "the subscription carries the panel's password too",
      )
    })
  })
