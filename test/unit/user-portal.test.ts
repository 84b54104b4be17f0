import assert from 'node:assert/strict'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {insertNode} from '../../src/lib/db/nodes-repository.js'
import type {Db} from '../../src/lib/db/open-database.js'
import {updateUser} from '../../src/lib/db/users-repository.js'
import {offReason} from '../../src/lib/domain/subscriptions.js'
import {setQuota, topUp} from '../../src/lib/quotas/quota-service.js'
import {subscriptionAddress, rotateSubscription} from '../../src/lib/share-links/subscription.js'
import {userPortal} from '../../src/lib/share-links/user-portal.js'
import {addUser, requireUser, setUserStatus} from '../../src/lib/users/user-service.js'
import {escapeHtml} from '../../src/lib/web/html.js'
import {translator} from '../../src/lib/web/i18n/messages.js'
import type {Frame} from '../../src/lib/web/pages/layout.js'
import {portalPage} from '../../src/lib/web/pages/portal-page.js'
import {qrSvg} from '../../src/lib/web/qr-svg.js'
import {contextAt, memoryDb} from '../support/memory-db.js'
import {fixturesDir} from '../support/paths.js'

const GiB = 1024 ** 3
const may20 = contextAt('2024-05-20T12:00:00Z')

describe("why a user is off, as a user's page says it", () => {
  const base = {periodEnd: '2024-06-01T00:00:00.000Z', expiresAt: null}
  it('names each kind of stop from the stored status and reason', () => {
    assert.equal(offReason({...base, status: 'active', statusReason: null}), null)
    assert.deepEqual(offReason({...base, status: 'limited', statusReason: 'monthly allowance used: 5 of 4 bytes'}), {
      kind: 'monthly',
      backOn: '2024-06-01T00:00:00.000Z',
    })
    assert.deepEqual(offReason({...base, status: 'limited', statusReason: 'total quota used: 9 of 9 bytes'}), {
      kind: 'total',
    })
    assert.deepEqual(offReason({...base, status: 'limited', statusReason: 'seen on 3 IPs at once, max-ips is 2'}), {
      kind: 'sharing',
    })
    assert.deepEqual(offReason({...base, status: 'limited', statusReason: 'max-ips cool-down'}), {kind: 'sharing'})
    assert.deepEqual(
      offReason({...base, status: 'expired', statusReason: 'expired at x', expiresAt: '2024-05-01T00:00:00.000Z'}),
      {kind: 'expired', at: '2024-05-01T00:00:00.000Z'},
    )
    assert.deepEqual(offReason({...base, status: 'disabled', statusReason: 'unpaid'}), {
      kind: 'disabled',
      reason: 'unpaid',
    })
    assert.deepEqual(offReason({...base, status: 'limited', statusReason: 'set by hand'}), {
      kind: 'limited',
      reason: 'set by hand',
    })
  })
})

describe("a user's own page (/u/<token>)", () => {
  let db: Db
  let token: string
  const frame = (language: 'en' | 'zh-CN' = 'en'): Frame => ({
    t: translator(language),
    language,
    here: `/u/${token}`,
    assets: {css: '/static/dashboard.css?v=1', js: '/static/dashboard.js?v=1'},
    csrf: null,
    flash: null,
    home: null,
  })
  const render = async (language: 'en' | 'zh-CN' = 'en') => {
    const portal = (await userPortal(db, token, may20))!
    const url = `https://sub.example.com${portal.subscription.path}`
    const texts = [url, ...portal.nodes.flatMap((node) => node.links.flatMap((e) => ('link' in e ? [e.link] : [])))]
    const qr = new Map(await Promise.all(texts.map(async (text) => [text, await qrSvg(text)] as const)))
    return {portal, page: portalPage(frame(language), {portal, subscriptionUrl: url, qr, timeZone: 'UTC'}).text}
  }

  before(async () => {
    db = await memoryDb()
    const node = await insertNode(db, {
      name: 'v1',
      type: 'v2ray',
      api: '127.0.0.1:1',
      config_path: join(fixturesDir, 'v2ray-config.json'),
      inbounds: null,
      apply_command: null,
      created_at: 0,
      last_pull_at: null,
      last_error: null,
      public_host: 'vpn.example.com',
    })
    assert.equal(node.public_host, 'vpn.example.com')
    await addUser(db, {name: 'alice', monthlyQuota: 10 * GiB, note: 'owes me lunch'}, contextAt('2024-04-10T00:00:00Z'))
    await topUp(db, 'alice', GiB, 'april gift', contextAt('2024-04-20T00:00:00Z'))
    await topUp(db, 'alice', 2 * GiB, 'paid cash', may20)
    token = (await subscriptionAddress(db, await requireUser(db, 'alice'), may20)).path.slice('/sub/'.length)
  })
  after(async () => db.destroy())

  it('makes one token for a user, even when two views ask for it at the same moment', async () => {
    await addUser(db, {name: 'zed'}, may20)
    const zed = await requireUser(db, 'zed')
    const [first, second] = await Promise.all([
      subscriptionAddress(db, zed, may20),
      subscriptionAddress(db, zed, may20),
    ])
    assert.equal(first.path, second.path)
    assert.equal((await subscriptionAddress(db, zed, may20)).path, first.path)
    assert.equal((await userPortal(db, first.path.slice('/sub/'.length), may20))?.user.name, 'zed')
  })

  it('finds nobody for an unknown or an old token', async () => {
    assert.equal(await userPortal(db, 'no-such-token', may20), undefined)
    const old = token
    token = (await rotateSubscription(db, 'alice', may20)).subscription.path.slice('/sub/'.length)
    assert.equal(await userPortal(db, old, may20), undefined)
    assert.ok(await userPortal(db, token, may20))
  })

  it("shows the period's usage, this period's top-ups only, the reset day and every link with a QR code", async () => {
    const {portal, page} = await render()
    assert.deepEqual(
      [portal.user.allowance, portal.topups],
      [12 * GiB, [{at: '2024-05-20T12:00:00.000Z', bytes: 2 * GiB}]],
    )
    assert.equal(portal.periodDays.length, 20)
    assert.equal(portal.periodLength, 31)
    assert.match(page, /Used this period<\/span><strong class="stat-value">0 B \/ 12\.0 GiB/)
    assert.match(page, /Resets on<\/span><strong class="stat-value">2024-06-01/)
    const links = portal.nodes[0]!.links.flatMap((entry) => ('link' in entry ? [entry.link] : []))
    assert.equal(links.length, 3)
    for (const link of links) assert.ok(page.includes(`data-copy="${escapeHtml(link)}"`), link)
    // The subscription's QR code and one per link.
    assert.equal(page.match(/<div class="qr" role="img"[^>]*><svg /g)?.length, 4)
  })

  it("counts a traffic package into what is left, and says how much of it is the package's", async () => {
    assert.doesNotMatch((await render()).page, /Of which in packages/)
    await topUp(db, 'alice', 5 * GiB, 'package', may20, Date.parse('2024-08-01T00:00:00Z'))
    const {portal, page} = await render()
    assert.equal(portal.user.packagesLeft, 5 * GiB)
    assert.match(page, /Left<\/span><strong class="stat-value">17\.0 GiB/)
    assert.match(page, /Of which in packages<\/span><strong class="stat-value">5\.0 GiB/)
  })

  it('shows nothing the operator keeps: no note, no top-up notes, no events, no forms, no way to the dashboard', async () => {
    const {page} = await render()
    for (const secret of ['owes me lunch', 'paid cash', 'april gift', 'created'])
      assert.ok(!page.includes(secret), secret)
    assert.ok(!page.includes('<form'))
    assert.ok(!page.includes('href="/"'), 'the brand leads nowhere')
    assert.deepEqual(page.match(/<script[^>]*>/g), ['<script src="/static/dashboard.js?v=1" defer>'])
    assert.ok(!/ style=|<style|onerror=|onclick=/.test(page))
  })

  it('says why a stopped user has no links, escaping the reason the operator typed, in Chinese too', async () => {
    await setUserStatus(db, 'alice', 'disabled', '<script>alert(1)</script> unpaid', may20)
    const {portal, page} = await render()
    assert.deepEqual(portal.nodes, [])
    assert.ok(page.includes('Your account is paused by your provider.'))
    assert.ok(page.includes('Reason: &lt;script&gt;alert(1)&lt;/script&gt; unpaid'))
    assert.ok(!page.includes('<script>alert'))
    assert.ok(page.includes('Your links show here again when your account is active.'))
    const zh = (await render('zh-CN')).page
    assert.ok(zh.includes('<html lang="zh-CN">') && zh.includes('你的账户已被服务提供者暂停。'))
    assert.ok(!zh.includes('Used this period'))
    await setUserStatus(db, 'alice', 'active', null, may20)
  })

  it('tells a user over the monthly allowance the day service resumes', async () => {
    await setQuota(db, 'alice', {monthlyQuota: 1}, may20)
    const alice = await requireUser(db, 'alice')
    await updateUser(db, alice.id, {status: 'limited', status_reason: 'monthly allowance used: 5 of 1 bytes'})
    const {page} = await render()
    assert.ok(page.includes('This period&#39;s allowance is used up. Service resumes on 2024-06-01.'))
    assert.ok((await render('zh-CN')).page.includes('本周期流量已用完，将于 2024-06-01 恢复。'))
  })
})
