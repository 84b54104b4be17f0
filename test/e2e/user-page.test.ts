import assert from 'node:assert/strict'
import {copyFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {startServe, type RunningServe} from '../support/run-serve.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

const MiB = 1024 ** 2

describe("a user's own page: /u/<token> on the real sbq serve, without the dashboard", () => {
  const workspace = tempWorkspace('sbq-user-page-')
  const configPath = join(workspace.dir, 'v2ray.json')
  const env = {SBQ_NOW: '2024-05-20T12:00:00Z'}
  const sbq = async (...args: string[]) => {
    const result = await runSbq([...args, '--json'], {db: workspace.db, env})
    assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
    return result.json
  }
  let stub: StubV2rayApi
  let serve: RunningServe
  let page: string
  let links: string[]
  let requests = 0
  const get = (target: string, init: RequestInit = {}) => {
    requests++
    return fetch(`${serve.base}${target}`, init)
  }

  before(async () => {
    copyFileSync(join(fixturesDir, 'v2ray-config.json'), configPath)
    stub = await StubV2rayApi.start({flavor: 'v2ray', inboundTags: ['vmess-in', 'vless-in', 'trojan-in']})
    await sbq('config', 'set', 'timezone', 'UTC')
    await sbq('node', 'add', 'v1', '--type', 'v2ray', '--api', stub.address, '--config', configPath, '--apply', 'true')
    await sbq('node', 'set', 'v1', '--public-host', 'vpn.example.com')
    await sbq('user', 'add', 'alice', '--monthly', '100M', '--expires', '2024-06-30', '--no-apply', '--note', 'owes me')
    await sbq('quota', 'topup', 'alice', '20M', '--note', 'paid cash')
    stub.setCounter('user>>>alice>>>traffic>>>downlink', 0)
    await sbq('stats', 'pull')
    stub.setCounter('user>>>alice>>>traffic>>>downlink', 30 * MiB)
    stub.setCounter('user>>>alice>>>traffic>>>uplink', 6 * MiB)
    await sbq('stats', 'pull')
    const shown = await sbq('user', 'link', 'alice')
    links = shown.nodes[0].links.map((entry: {link: string}) => entry.link)
    page = shown.subscription.pagePath
    assert.equal(page, shown.subscription.path.replace('/sub/', '/u/'))
    serve = await startServe(workspace.db, env, ['--no-dashboard', '--metrics-public'])
  })

  after(async () => {
    await serve?.stop()
    await stub.close()
    workspace.cleanup()
  })

  it("shows the period's usage against the allowance with top-ups, the reset and expiry days, and every link", async () => {
    const response = await get(page)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/)
    const body = await response.text()
    assert.match(body, /Used this period<\/span><strong class="stat-value">36\.0 MiB \/ 120 MiB/)
    assert.match(body, /<span class="stat-note">30%<\/span>/)
    assert.match(body, /Left<\/span><strong class="stat-value">84\.0 MiB/)
    assert.match(body, /Resets on<\/span><strong class="stat-value">2024-06-01/)
    assert.match(body, /Expires<\/span><strong class="stat-value">2024-06-30/)
    assert.match(body, /\+20\.0 MiB/)
    for (const link of links) assert.ok(body.includes(link.replaceAll('&', '&amp;')), link)
    // The subscription URL on the address the browser used (no subscription-url is set).
    assert.ok(body.includes(`${serve.base}${page.replace('/u/', '/sub/')}`))
    for (const secret of ['owes me', 'paid cash']) assert.ok(!body.includes(secret), `no operator note: ${secret}`)
  })

  it('sends the same security headers as the dashboard, and no Referer ever leaves with the token', async () => {
    const response = await get(page)
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/)
    assert.equal(response.headers.get('x-frame-options'), 'DENY')
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer')
    assert.equal(response.headers.get('cache-control'), 'no-store')
    const css = await fetch(`${serve.base}/static/dashboard.css`)
    assert.equal(css.status, 200, 'the stylesheet is served with the dashboard off')
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/)
    assert.equal((await fetch(`${serve.base}/`)).status, 404, 'the dashboard itself stays off')
  })

  it("speaks Chinese when asked by ?lang= or by the browser's Accept-Language", async () => {
    const asked = await (await get(`${page}?lang=zh-CN`)).text()
    assert.ok(asked.includes('<html lang="zh-CN">') && asked.includes('本周期已用'))
    const browser = await (await get(page, {headers: {'accept-language': 'zh-TW,zh;q=0.9,en;q=0.5'}})).text()
    assert.ok(browser.includes('本周期已用') && !browser.includes('Used this period'))
  })

  it('refuses anything but GET and HEAD', async () => {
    const response = await get(page, {method: 'POST', body: 'x'})
    assert.equal(response.status, 405)
    assert.equal(response.headers.get('allow'), 'GET, HEAD')
  })

  it('tells a user over the allowance when service resumes, and shows no links until then', async () => {
    // A quota below what is used limits at once, as a check would.
    assert.equal((await sbq('quota', 'set', 'alice', '--monthly', '10M')).status, 'limited')
    const body = await (await get(page)).text()
    assert.ok(body.includes('This period&#39;s allowance is used up. Service resumes on 2024-06-01.'))
    assert.ok(body.includes('Your links show here again when your account is active.'))
    for (const link of links) assert.ok(!body.includes(link.replaceAll('&', '&amp;')))
    assert.equal((await sbq('quota', 'set', 'alice', '--monthly', '100M')).status, 'active')
    assert.match(
      await (await get(page)).text(),
      /Used this period<\/span><strong class="stat-value">36\.0 MiB \/ 120 MiB/,
    )
  })

  it('answers an unknown or rotated token with 404 and no hint, and keeps every token out of the log', async () => {
    const unknown = await get('/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
    assert.equal(unknown.status, 404)
    const text = await unknown.text()
    assert.ok(!text.includes('alice'))
    assert.ok(text.includes('This address is not valid (any more).'))
    const rotated = await sbq('user', 'rotate-link', 'alice')
    assert.equal(rotated.subscription.pagePath, rotated.subscription.path.replace('/sub/', '/u/'))
    assert.equal((await get(page)).status, 404)
    assert.equal((await get(rotated.subscription.pagePath)).status, 200)
    for (const token of [page.slice(3), rotated.subscription.pagePath.slice(3)])
      assert.ok(!serve.stderr().includes(token), 'no token in the log')
  })

  it('counts pages and subscriptions together against 30 requests a minute per address', async () => {
    let status = 0
    while (requests <= 31) status = (await get(requests % 2 === 0 ? '/u/whatever' : '/sub/whatever')).status
    assert.equal(status, 429)
  })
})
