import assert from 'node:assert/strict'
import {copyFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {parse as parseYaml} from 'yaml'

import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {startServe, type RunningServe} from '../support/run-serve.js'
import {parseShareLink} from '../support/share-link-parser.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

describe('subscriptions: /sub/<token> on the real sbq serve, tokens from the real bin/sbq', () => {
  const workspace = tempWorkspace('sbq-sub-')
  const configPath = join(workspace.dir, 'v2ray.json')
  const env = {SBQ_NOW: '2024-05-20T12:00:00Z'}
  const sbq = async (...args: string[]) => {
    const result = await runSbq([...args, '--json'], {db: workspace.db, env})
    assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
    return result.json
  }
  let stub: StubV2rayApi
  let serve: RunningServe
  let links: string[]
  let path: string
  let requests = 0
  const get = (target: string, headers: Record<string, string> = {}) => {
    requests++
    return fetch(`${serve.base}${target}`, {headers})
  }

  before(async () => {
    copyFileSync(join(fixturesDir, 'v2ray-config.json'), configPath)
    stub = await StubV2rayApi.start({flavor: 'v2ray', inboundTags: ['vmess-in', 'vless-in', 'trojan-in']})
    await sbq('config', 'set', 'timezone', 'UTC')
    await sbq('config', 'set', 'subscription-url', 'https://sub.example.com/')
    await sbq('node', 'add', 'v1', '--type', 'v2ray', '--api', stub.address, '--config', configPath, '--apply', 'true')
    await sbq('node', 'set', 'v1', '--public-host', 'vpn.example.com')
    await sbq('user', 'add', 'alice', '--monthly', '10G', '--expires', '2024-06-30', '--no-apply')
    const shown = await sbq('user', 'link', 'alice')
    links = shown.nodes[0].links.map((entry: {link: string}) => entry.link)
    path = shown.subscription.path
    assert.match(path, /^\/sub\/[A-Za-z0-9_-]{43}$/)
    assert.equal(shown.subscription.url, `https://sub.example.com${path}`)
    serve = await startServe(workspace.db, env, ['--no-dashboard', '--metrics-public'])
  })

  after(async () => {
    await serve?.stop()
    await stub.close()
    workspace.cleanup()
  })

  it('shows the same URL every time until it is rotated', async () => {
    assert.equal((await sbq('user', 'link', 'alice')).subscription.path, path)
  })

  it("gives v2rayN the user's links as a base64 list, with the quota in subscription-userinfo", async () => {
    const response = await get(path, {'user-agent': 'v2rayN/6.45'})
    assert.equal(response.status, 200)
    const body = Buffer.from(await response.text(), 'base64').toString('utf8')
    assert.deepEqual(body.split('\n').sort(), [...links].sort())
    for (const link of body.split('\n')) assert.equal(parseShareLink(link).remark, 'alice')
    const expire = Date.parse('2024-06-30T00:00:00Z') / 1000
    assert.equal(
      response.headers.get('subscription-userinfo'),
      `upload=0; download=0; total=${10 * 1024 ** 3}; expire=${expire}`,
    )
    assert.equal(response.headers.get('profile-title'), 'alice')
    assert.equal(response.headers.get('profile-update-interval'), '12')
    assert.match(response.headers.get('content-disposition') ?? '', /filename="alice"/)
  })

  it('gives a disabled user a subscription without servers whose title says why', async () => {
    await sbq('user', 'disable', 'alice', '--reason', 'unpaid', '--no-apply')
    const response = await get(path)
    assert.equal(response.status, 200)
    assert.equal(Buffer.from(await response.text(), 'base64').toString('utf8'), '')
    assert.match(response.headers.get('profile-title') ?? '', /^alice: disabled \(unpaid\)$/)
    await sbq('user', 'enable', 'alice', '--no-apply')
  })

  it('gives a user sbq check limited no servers, and a title with the reason and the day the limit lifts', async () => {
    await sbq('quota', 'set', 'alice', '--monthly', '1M')
    stub.setCounter('user>>>alice>>>traffic>>>downlink', 0)
    await sbq('stats', 'pull')
    stub.setCounter('user>>>alice>>>traffic>>>downlink', 2 * 1024 * 1024)
    const check = await sbq('check')
    assert.deepEqual(
      check.changes.map((change: {user: string; to: string}) => [change.user, change.to]),
      [['alice', 'limited']],
    )
    const response = await get(path, {'user-agent': 'Shadowrocket/2070'})
    assert.equal(response.status, 200)
    assert.equal(Buffer.from(await response.text(), 'base64').toString('utf8'), '')
    assert.equal(
      response.headers.get('profile-title'),
      `alice: limited (monthly allowance used: ${2 * 1024 * 1024} of ${1024 * 1024} bytes), back on 2024-06-01`,
    )
    assert.match(
      response.headers.get('subscription-userinfo') ?? '',
      new RegExp(`download=${2 * 1024 * 1024}; total=${1024 * 1024};`),
    )
    await sbq('quota', 'set', 'alice', '--monthly', '10G')
    await sbq('check')
    assert.equal((await sbq('user', 'show', 'alice')).status, 'active')
  })

  it('answers an unknown token and a rotated one with a bare 404, and the new URL works', async () => {
    const unknown = await get('/sub/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
    assert.equal(unknown.status, 404)
    assert.equal(await unknown.text(), 'not found\n')
    const rotated = await sbq('user', 'rotate-link', 'alice')
    assert.notEqual(rotated.subscription.path, path)
    assert.equal((await get(path)).status, 404)
    assert.equal((await get(rotated.subscription.path)).status, 200)
    assert.equal((await get(`${rotated.subscription.path}?format=yaml`)).status, 400)
    assert.ok(!serve.stderr().includes(rotated.subscription.path.slice(5)), 'no token in the log')
  })

  it('gives Clash a YAML config and sing-box a JSON config of the same servers, chosen by client or by ?format=', async () => {
    const current = (await sbq('user', 'link', 'alice')).subscription.path
    const clash = await get(current, {'user-agent': 'clash-verge/v2.0.3'})
    assert.equal(clash.status, 200)
    assert.match(clash.headers.get('content-type') ?? '', /^text\/yaml/)
    const yaml = parseYaml(await clash.text()) as {proxies: Array<{name: string; type: string; uuid?: string}>}
    assert.deepEqual(yaml.proxies.map((proxy) => proxy.name).sort(), ['v1-trojan-in', 'v1-vless-in', 'v1-vmess-in'])
    assert.match(clash.headers.get('subscription-userinfo') ?? '', /^upload=\d+; download=\d+; total=\d+; expire=\d+$/)
    const singBox = await get(`${current}?format=sing-box`, {'user-agent': 'v2rayN/6.45'})
    assert.equal(singBox.status, 200)
    const config = (await singBox.json()) as {outbounds: Array<{tag: string; type: string}>}
    assert.deepEqual(config.outbounds.map((outbound) => outbound.tag).sort(), [
      'direct',
      'proxy',
      'v1-trojan-in',
      'v1-vless-in',
      'v1-vmess-in',
    ])
  })

  it('limits one address to 30 requests a minute, before any token is looked up', async () => {
    let status = 0
    while (requests <= 31) status = (await get('/sub/whatever')).status
    assert.equal(status, 429)
  })
})
