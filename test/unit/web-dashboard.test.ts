import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {closePastDays} from '../../src/lib/accounting/close-days.js'
import {
  dashboardTotals,
  monthTrafficOfUsers,
  usersPage,
  usersPageQueries,
  type UsersPageQuery,
} from '../../src/lib/db/dashboard-repository.js'
import type {Db} from '../../src/lib/db/open-database.js'
import {findUserRecordsById} from '../../src/lib/db/users-repository.js'
import {setQuota} from '../../src/lib/quotas/quota-service.js'
import {addUser, setUserStatus} from '../../src/lib/users/user-service.js'
import {toUserView} from '../../src/lib/domain/user.js'
import {cumulativeLine, usageBar} from '../../src/lib/web/charts.js'
import {loadDashboard, loadUserPage} from '../../src/lib/web/dashboard-data.js'
import {en, languageFromHeader, translator, zhCN} from '../../src/lib/web/i18n/messages.js'
import {dashboardPage} from '../../src/lib/web/pages/dashboard-page.js'
import type {Frame} from '../../src/lib/web/pages/layout.js'
import {userPage} from '../../src/lib/web/pages/user-page.js'
import {parseUsersQuery, usersHref} from '../../src/lib/web/users-query.js'
import {contextAt, memoryDb} from '../support/memory-db.js'

const GiB = 1024 ** 3
const may20 = {...contextAt('2024-05-20T12:00:00Z'), actor: 'web' as const}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort()

describe('dashboard strings', () => {
  it('has every English key in Simplified Chinese and no other, none empty, with the same placeholders', () => {
    assert.deepEqual(Object.keys(zhCN).sort(), Object.keys(en).sort())
    for (const [key, text] of Object.entries(en)) {
      const chinese = zhCN[key as keyof typeof en]
      assert.ok(text.trim() !== '' && chinese.trim() !== '', `${key} is empty`)
      assert.deepEqual(placeholders(chinese), placeholders(text), `${key}: placeholders differ`)
    }
  })

  it('fills placeholders, leaving unknown ones visible', () => {
    const t = translator('zh-CN')
    assert.equal(t('flash.topup', {name: 'alice', size: '2.0 GiB'}), '已为 alice 加量 2.0 GiB。')
    assert.equal(translator('en')('user.title', {}), 'User {name}')
  })

  it('picks the language from Accept-Language: any zh is Chinese, highest q wins, English otherwise', () => {
    const cases: Array<[string | undefined, string]> = [
      [undefined, 'en'],
      ['', 'en'],
      ['zh-CN,zh;q=0.9,en;q=0.8', 'zh-CN'],
      ['zh-TW', 'zh-CN'],
      ['en-US,en;q=0.9,zh-CN;q=0.8', 'en'],
      ['fr-FR, zh;q=0.5, en;q=0.4', 'zh-CN'],
      ['de, fr', 'en'],
      ['zh;q=0, en;q=0.1', 'en'],
      ['en;q=0.2, zh-Hans;q=0.9', 'zh-CN'],
    ]
    for (const [header, language] of cases) assert.equal(languageFromHeader(header), language, String(header))
  })
})

describe('users table state in the URL', () => {
  it('reads a query, falling back to the defaults for anything unknown', () => {
    assert.deepEqual(parseUsersQuery(new URLSearchParams('q=%20Ali%20&status=limited&sort=used&dir=desc&page=3')), {
      search: 'Ali',
      status: 'limited',
      sort: 'used',
      descending: true,
      page: 3,
    })
    assert.deepEqual(parseUsersQuery(new URLSearchParams('status=bogus&sort=password&page=-1&dir=sideways')), {
      search: '',
      status: null,
      sort: 'name',
      descending: false,
      page: 1,
    })
  })

  it("takes the phone menu's order over sort and dir, ignoring orders it does not offer", () => {
    assert.deepEqual(parseUsersQuery(new URLSearchParams('order=used.desc&sort=name')), {
      search: '',
      status: null,
      sort: 'used',
      descending: true,
      page: 1,
    })
    assert.deepEqual(parseUsersQuery(new URLSearchParams('order=password.desc&sort=lifetime&dir=desc')), {
      search: '',
      status: null,
      sort: 'lifetime',
      descending: true,
      page: 1,
    })
  })

  it('writes a URL that reads back the same, leaving defaults out', () => {
    const query = {search: 'bob', status: 'expired' as const, sort: 'lifetime' as const, descending: true, page: 2}
    assert.equal(usersHref(query), '/?q=bob&status=expired&sort=lifetime&dir=desc&page=2')
    assert.deepEqual(parseUsersQuery(new URL(usersHref(query), 'http://x').searchParams), query)
    assert.equal(usersHref({search: '', status: null, sort: 'name', descending: false, page: 1}), '/')
  })
})

describe('dashboard repository', () => {
  let db: Db
  const query = (over: Partial<UsersPageQuery> = {}): UsersPageQuery => ({
    sort: 'name',
    descending: false,
    offset: 0,
    limit: 50,
    now: may20.now,
    ...over,
  })
  const names = async (over: Partial<UsersPageQuery> = {}) => {
    const page = await usersPage(db, query(over))
    return (await findUserRecordsById(db, page.ids)).map((record) => record.name)
  }

  before(async () => {
    db = await memoryDb()
    const may1 = {...contextAt('2024-05-01T08:00:00Z'), actor: 'cli' as const}
    for (const [name, expiresAt] of [
      ['alice', null],
      ['Bob', Date.parse('2024-06-01T00:00:00Z')],
      ['carol_x', Date.parse('2024-05-25T00:00:00Z')],
      ['dave', null],
      ['erin', null],
    ] as const) {
      await addUser(db, {name, monthlyQuota: 10 * GiB, expiresAt}, may1)
    }
    // Running counts: alice 5 GiB, Bob 1 GiB, dave 8 GiB but in a period that ended (he has used nothing this one).
    const usage = db.updateTable('user_usage')
    await usage
      .set({period_up: GiB, period_down: 4 * GiB, total_up: GiB, total_down: 4 * GiB})
      .where('user_id', '=', 1)
      .execute()
    await usage
      .set({period_down: GiB, total_down: 30 * GiB})
      .where('user_id', '=', 2)
      .execute()
    await usage
      .set({
        period_start: Date.parse('2024-04-01T00:00:00Z'),
        period_end: Date.parse('2024-05-01T00:00:00Z'),
        period_down: 8 * GiB,
        total_down: 8 * GiB,
      })
      .where('user_id', '=', 4)
      .execute()
    await setUserStatus(db, 'erin', 'disabled', null, may20)
    await db.updateTable('users').set({status: 'limited'}).where('name', '=', 'alice').execute()
    await db
      .insertInto('usage_daily')
      .values([
        {day: '2024-04-30', node_name: 'n1', user_name: 'alice', up: 1, down: 1000, raw_up: 1, raw_down: 1000},
        {day: '2024-05-01', node_name: 'n1', user_name: 'alice', up: 10, down: 100, raw_up: 10, raw_down: 100},
        {day: '2024-05-20', node_name: 'n2', user_name: 'alice', up: 20, down: 200, raw_up: 20, raw_down: 200},
        {day: '2024-05-31', node_name: 'n1', user_name: 'Bob', up: 3, down: 30, raw_up: 3, raw_down: 30},
        {day: '2024-06-01', node_name: 'n1', user_name: 'Bob', up: 5000, down: 5000, raw_up: 5000, raw_down: 5000},
        {day: '2024-05-02', node_name: 'n1', user_name: 'gone', up: 7, down: 7, raw_up: 7, raw_down: 7},
      ])
      .execute()
  })
  after(async () => db.destroy())

  it('pages users by name in SQL, with the total of all matches', async () => {
    assert.deepEqual(await names(), ['Bob', 'alice', 'carol_x', 'dave', 'erin'])
    const page = await usersPage(db, query({limit: 2, offset: 2}))
    assert.equal(page.total, 5)
    assert.deepEqual(
      (await findUserRecordsById(db, page.ids)).map((record) => record.name),
      ['carol_x', 'dave'],
    )
    assert.deepEqual(await names({descending: true, limit: 1}), ['erin'])
  })

  it('searches any case; a search with characters no name has finds nobody', async () => {
    assert.deepEqual(await names({search: 'BO'}), ['Bob'])
    assert.deepEqual(await names({search: ' a '}), ['alice', 'carol_x', 'dave'])
    assert.deepEqual(await names({search: 'l_x'}), ['carol_x'])
    for (const search of ['%', '%%', '\\', "' or '1'='1", "' or 1=1 --", 'a" or ""="']) {
      assert.deepEqual(await usersPage(db, query({search})), {total: 0, ids: []}, search)
    }
  })

  it('sends the search as a bound parameter, never as SQL text', () => {
    const search = "x' or '1'='1"
    for (const compiled of Object.values(usersPageQueries(db, query({search}))).map((builder) => builder.compile())) {
      assert.doesNotMatch(compiled.sql, /'1'='1|x'/)
      assert.match(compiled.sql, /lower\("users"\."name"\) like (\?|\$1) escape '\\'/)
      assert.ok(compiled.parameters.includes("%x' or '1'='1%"), JSON.stringify(compiled.parameters))
    }
  })

  it('matches `_`, `%` and `\\` literally: searching a_b does not find axb', async () => {
    const own = await memoryDb()
    try {
      const may1 = {...contextAt('2024-05-01T08:00:00Z'), actor: 'cli' as const}
      for (const name of ['a_b', 'axb', 'a.b', 'ab']) await addUser(own, {name, monthlyQuota: GiB}, may1)
      const found = async (search: string) =>
        (await findUserRecordsById(own, (await usersPage(own, query({search}))).ids)).map((record) => record.name)
      assert.deepEqual(await found('a_b'), ['a_b'])
      assert.deepEqual(await found('_'), ['a_b'])
      assert.deepEqual(await found('a%b'), [])
      assert.deepEqual(await found('\\'), [])
      assert.deepEqual(await found('a.b'), ['a.b'])
    } finally {
      await own.destroy()
    }
  })

  it('filters by status and sorts by status with problems first', async () => {
    assert.deepEqual(await names({status: 'disabled'}), ['erin'])
    assert.equal((await usersPage(db, query({status: 'active'}))).total, 3)
    assert.deepEqual(await names({sort: 'status'}), ['alice', 'erin', 'Bob', 'carol_x', 'dave'])
  })

  it("sorts by this period's use as toUserView counts it: an ended period counts nothing", async () => {
    const order = await names({sort: 'used', descending: true})
    assert.deepEqual(order.slice(0, 2), ['alice', 'Bob'])
    const records = await findUserRecordsById(db, (await usersPage(db, query({sort: 'used', descending: true}))).ids)
    const used = records.map((record) => toUserView(record, may20).periodUsed)
    assert.deepEqual(
      used,
      [...used].sort((a, b) => b - a),
      'SQL order equals the order of the views',
    )
    assert.equal(used[order.indexOf('dave')], 0)
  })

  it('sorts by lifetime and by expiry, never-expiring last both ways', async () => {
    assert.deepEqual((await names({sort: 'lifetime', descending: true})).slice(0, 3), ['Bob', 'dave', 'alice'])
    assert.deepEqual(await names({sort: 'expires'}), ['carol_x', 'Bob', 'alice', 'dave', 'erin'])
    assert.deepEqual(await names({sort: 'expires', descending: true}), ['Bob', 'carol_x', 'alice', 'dave', 'erin'])
  })

  it('counts users by status and sums the current periods', async () => {
    assert.deepEqual(await dashboardTotals(db, may20.now), {
      users: 5,
      byStatus: {active: 3, disabled: 1, limited: 1, expired: 0},
      periodBytes: 6 * GiB,
    })
  })

  it("sums current users' traffic of a month, not the days around it or removed users", async () => {
    assert.equal(await monthTrafficOfUsers(db, '2024-05-01', '2024-06-01'), 110 + 220 + 33)
    // Closing past days into month sums changes where the bytes are read from, never the answer.
    assert.equal(await closePastDays(db, '2024-07-01'), '2024-06-30')
    assert.equal(await monthTrafficOfUsers(db, '2024-05-01', '2024-06-01'), 110 + 220 + 33)
  })

  it('loads a page view whose rows are the domain views of the page users', async () => {
    const view = await loadDashboard(db, {search: '', status: null, sort: 'used', descending: true, page: 1}, may20)
    assert.deepEqual(
      view.users.slice(0, 2).map((user) => [user.name, user.periodUsed, user.allowance]),
      [
        ['alice', 5 * GiB, 10 * GiB],
        ['Bob', GiB, 10 * GiB],
      ],
    )
    assert.deepEqual([view.matching, view.month, view.monthBytes], [5, '2024-05', 363])
  })
})

describe('dashboard pages', () => {
  let db: Db
  const origin = 'http://127.0.0.1:8080'
  const frame = (language: 'en' | 'zh-CN' = 'en'): Frame => ({
    t: translator(language),
    language,
    here: '/',
    assets: {css: '/static/dashboard.css?v=1', js: '/static/dashboard.js?v=1'},
    csrf: 'token-123',
    flash: null,
  })
  before(async () => {
    db = await memoryDb()
    await addUser(db, {name: 'alice', monthlyQuota: 10 * GiB, note: '<img src=x onerror=alert(1)>'}, may20)
    await setQuota(db, 'alice', {expiresAt: Date.parse('2024-06-30T00:00:00Z')}, may20)
  })
  after(async () => db.destroy())

  it('escapes what users typed, puts the CSRF token in every form, and has no inline script or style', async () => {
    const page = userPage(frame(), await loadUserPage(db, 'alice', {secrets: false, origin}, may20)).text
    assert.ok(page.includes('&lt;img src=x onerror=alert(1)&gt;'))
    assert.ok(!page.includes('<img src=x'))
    // Log out, disable (an active user has no enable), reset, top up, set quota, new subscription URL.
    const forms = page.match(/<form method="post"/g)?.length ?? 0
    assert.equal(forms, 6)
    assert.equal(page.match(/name="_csrf" value="token-123"/g)?.length, forms)
    assert.deepEqual(page.match(/<script[^>]*>/g), ['<script src="/static/dashboard.js?v=1" defer>'])
    assert.ok(!/ style=|<style|onerror=|onclick=/.test(page.replaceAll('onerror=alert(1)&gt;', '')))
  })

  it('shows credentials only when asked', async () => {
    const hidden = userPage(frame(), await loadUserPage(db, 'alice', {secrets: false, origin}, may20)).text
    const shown = await loadUserPage(db, 'alice', {secrets: true, origin}, may20)
    assert.ok(!hidden.includes(shown.user.credentials!.password))
    assert.ok(userPage(frame(), shown).text.includes(shown.user.credentials!.password))
  })

  it("shows the user's subscription URL and page on this server's origin, with a QR code and a form to rotate them", async () => {
    const view = await loadUserPage(db, 'alice', {secrets: false, origin}, may20)
    assert.match(view.subscription.url, /^http:\/\/127\.0\.0\.1:8080\/sub\/[A-Za-z0-9_-]{43}$/)
    assert.equal(view.subscription.pageUrl, view.subscription.url.replace('/sub/', '/u/'))
    const page = userPage(frame(), view).text
    assert.ok(
      page.includes(`data-copy="${view.subscription.url}"`) &&
        page.includes(`data-copy="${view.subscription.pageUrl}"`),
    )
    assert.match(
      page,
      /<div class="qr" role="img"[^>]*><svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 \d+ \d+"/,
    )
    assert.match(
      page,
      /<form method="post" action="\/users\/alice\/rotate-link" class="inline" data-confirm="[^"]+"><input type="hidden" name="_csrf" value="token-123">/,
    )
    const again = await loadUserPage(db, 'alice', {secrets: false, origin}, may20)
    assert.equal(again.subscription.url, view.subscription.url, 'one token, made on the first view')
  })

  it('renders the dashboard in Chinese', async () => {
    const view = await loadDashboard(db, {search: '', status: null, sort: 'name', descending: false, page: 1}, may20)
    const page = dashboardPage(frame('zh-CN'), view).text
    assert.ok(page.includes('<html lang="zh-CN">'))
    assert.ok(page.includes('本周期流量') && page.includes('>正常<'))
    assert.ok(!page.includes('Traffic this period'))
  })

  it('draws usage bars capped at full, and an allowance line only when there is an allowance', () => {
    assert.match(usageBar(30, 20).text, /class="bar-fill level-over" width="100.00"/)
    assert.match(usageBar(17, 20).text, /class="bar-fill level-warn" width="85.00"/)
    assert.match(usageBar(5, 0).text, /width="0.00"/)
    assert.match(cumulativeLine([1, 2, 3], 30, 100).text, /chart-allowance/)
    assert.doesNotMatch(cumulativeLine([1, 2, 3], 30, 0).text, /chart-allowance/)
  })
})
