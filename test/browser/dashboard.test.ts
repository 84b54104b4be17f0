import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import type {Browser, BrowserContext, Page} from 'playwright-core'

import {artifactPath, browserSkipReason, launchChromium} from '../support/browser.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {startServe, type RunningServe} from '../support/run-serve.js'
import {decodeQr, zbarAvailable} from '../support/qr-image.js'
import {seedHistory} from '../support/seed-history.js'

const password = 'correct horse battery staple'
/** Mid-month, so this period holds 20 of the 30 seeded days (GiB, not MiB), whatever the real date is. */
const clock = {SBQ_NOW: '2024-05-20T12:00:00Z'}
const GiB = 1024 ** 3

const skip = browserSkipReason()

describe(
  'web dashboard in Debian Chromium (real sbq serve, real browser)',
  {skip: skip ?? false, timeout: 180_000},
  () => {
    const workspace = tempWorkspace('sbq-browser-')
    const sbq = async (...args: string[]) => {
      const result = await runSbq(args, {db: workspace.db, env: clock})
      assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
      return result
    }
    let serve: RunningServe
    let browser: Browser
    let context: BrowserContext
    let page: Page

    const userStatus = async (name: string) => (await sbq('user', 'show', name, '--json')).json.status as string

    before(async () => {
      await sbq('config', 'set', 'timezone', 'UTC')
      const set = await runSbq(['admin', 'set-password', '--password-stdin'], {
        db: workspace.db,
        env: clock,
        input: `${password}\n`,
      })
      assert.equal(set.code, 0, set.stderr)
      await sbq('plan', 'add', 'basic', '--monthly', '100')
      await sbq('user', 'add', 'alice', '--monthly', '20', '--no-apply', '--note', 'family')
      await sbq('user', 'add', 'bob', '--plan', 'basic', '--expires', '30d', '--no-apply')
      await sbq('user', 'add', 'erin', '--monthly', '5', '--no-apply')
      await sbq('user', 'disable', 'erin', '--reason', 'asked to pause', '--no-apply')
      seedHistory(workspace.db, 'alice', Date.parse(clock.SBQ_NOW))
      serve = await startServe(workspace.db, clock)
      await sbq('node', 'add', 'de1', '--type', '3x-ui', '--public-url', serve.base)
      browser = await launchChromium()
      context = await browser.newContext({locale: 'en-US', viewport: {width: 1280, height: 900}})
      page = await context.newPage()
      page.setDefaultTimeout(15_000)
    })

    after(async () => {
      await browser?.close()
      await serve?.stop()
      workspace.cleanup()
    })

    it('sends a visitor without a session to the login page', async () => {
      const response = await page.goto(`${serve.base}/`)
      assert.equal(response?.status(), 200)
      assert.equal(new URL(page.url()).pathname, '/login')
      await page.screenshot({path: artifactPath('login.png'), fullPage: true})
    })

    it('refuses a wrong password and stays on the login page', async () => {
      await page.fill('#password', 'not the password')
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'),
        page.click('button[type=submit]'),
      ])
      assert.equal(response.status(), 401)
      await page.getByText('Wrong password.').waitFor()
      assert.equal(new URL(page.url()).pathname, '/login')
      assert.equal(
        (await context.cookies()).some((cookie) => cookie.name === 'sbq_session'),
        false,
      )
    })

    it('logs in and shows the cards, the users table with usage bars, and the nodes', async () => {
      await page.fill('#password', password)
      await Promise.all([page.waitForURL(`${serve.base}/`), page.click('button[type=submit]')])
      const session = (await context.cookies()).find((cookie) => cookie.name === 'sbq_session')
      assert.ok(session, 'a session cookie')
      assert.deepEqual([session.httpOnly, session.sameSite, session.secure], [true, 'Strict', false])
      const cards = await page.locator('.stat').allTextContents()
      assert.match(cards.join(' | '), /Users\s*3/)
      assert.match(cards.join(' | '), /Active\s*2/)
      assert.match(cards.join(' | '), /Disabled\s*1/)
      const rows = page.locator('table.users tbody tr')
      assert.deepEqual(await rows.locator('.user-link').allTextContents(), ['alice', 'bob', 'erin'])
      const alice = rows.filter({hasText: 'alice'})
      assert.match((await alice.textContent()) ?? '', /GiB \/ 20\.0 GiB/)
      assert.equal(await alice.locator('svg.bar rect.bar-fill').count(), 1)
      assert.match(
        (await page.locator('section', {hasText: 'Nodes'}).last().textContent()) ?? '',
        /de1\s*3x-ui\s*never/,
      )
      await page.screenshot({path: artifactPath('dashboard.png'), fullPage: true})
    })

    it('loads the script and the stylesheet from the package under the CSP, with no console errors', async () => {
      const errors: string[] = []
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text())
      })
      await page.reload()
      const background = await page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor")
      assert.equal(background, 'rgb(17, 24, 39)', 'the stylesheet applied')
      assert.deepEqual(errors, [])
    })

    it('searches, filters by status and sorts on the server', async () => {
      await page.fill('input[name=q]', 'ali')
      await Promise.all([page.waitForURL(/q=ali/), page.press('input[name=q]', 'Enter')])
      assert.deepEqual(await page.locator('table.users .user-link').allTextContents(), ['alice'])
      await page.goto(`${serve.base}/`)
      await Promise.all([page.waitForURL(/status=disabled/), page.selectOption('select[name=status]', 'disabled')])
      assert.deepEqual(await page.locator('table.users .user-link').allTextContents(), ['erin'])
      await page.goto(`${serve.base}/`)
      await Promise.all([page.waitForURL(/sort=used/), page.click('th a:has-text("Period used")')])
      assert.deepEqual(await page.locator('table.users .user-link').allTextContents(), ['alice', 'bob', 'erin'])
      await Promise.all([page.waitForURL(/sort=used(?!.*dir=desc)/), page.click('th a:has-text("Period used")')])
      assert.equal(await page.locator('table.users .user-link').last().textContent(), 'alice')
    })

    it('adds a user and shows the generated credentials once, then lists them', async () => {
      await page.goto(`${serve.base}/`)
      await page.click('a.button:has-text("Add user")')
      await page.fill('input[name=name]', 'dave')
      await page.fill('input[name=monthly]', '50')
      await page.fill('input[name=expires]', '30d')
      await page.selectOption('select[name=plan]', '')
      await Promise.all([page.waitForURL(`${serve.base}/add`), page.click('button:has-text("Create user")')])
      await page.getByRole('heading', {name: 'User dave created'}).waitFor()
      const secrets = await page.locator('dl.secrets code').allTextContents()
      assert.equal(secrets.length, 3)
      assert.match(secrets[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      const stored = (await sbq('user', 'show', 'dave', '--secrets', '--json')).json
      assert.deepEqual(secrets, [stored.credentials.uuid, stored.credentials.password, stored.credentials.password16])
      assert.equal(stored.monthlyQuota, 50 * GiB)
      await page.screenshot({path: artifactPath('user-created.png'), fullPage: true})

      await page.goto(`${serve.base}/`)
      const dave = page.locator('table.users tbody tr', {hasText: 'dave'})
      assert.match((await dave.textContent()) ?? '', /active\s*0 B \/ 50\.0 GiB/)
      await page.reload()
      assert.equal(await page.locator('dl.secrets').count(), 0, 'credentials are not shown again without asking')
    })

    it('refuses a duplicate name and keeps what was typed', async () => {
      await page.goto(`${serve.base}/add`)
      await page.fill('input[name=name]', 'dave')
      await page.fill('input[name=monthly]', '7')
      await page.click('button:has-text("Create user")')
      await page.getByText('user "dave" already exists').waitFor()
      assert.equal(await page.inputValue('input[name=monthly]'), '7')
    })

    it("disables, enables and resets from the user's page, each an event by web", async () => {
      await page.goto(`${serve.base}/users/dave`)
      await page.fill('form[action$="/disable"] input[name=reason]', 'late payment')
      await Promise.all([page.waitForURL(`${serve.base}/users/dave`), page.click('button:has-text("Disable")')])
      await page.getByText('dave: active → disabled.').waitFor()
      assert.equal(await page.locator('.page-head .status').textContent(), 'disabled')
      assert.equal(await userStatus('dave'), 'disabled')

      await Promise.all([page.waitForURL(`${serve.base}/users/dave`), page.click('button:has-text("Enable")')])
      await page.getByText('dave: disabled → active.').waitFor()
      assert.equal(await userStatus('dave'), 'active')

      page.once('dialog', (dialog) => void dialog.accept())
      await Promise.all([
        page.waitForURL(`${serve.base}/users/dave`),
        page.click('button:has-text("Reset period usage")'),
      ])
      await page.getByText('Period usage of dave reset to zero.').waitFor()

      const events = (await sbq('user', 'show', 'dave', '--json')).json.events as Array<{
        kind: string
        actor: string
        to: string | null
      }>
      assert.deepEqual(
        events.map((event) => [event.kind, event.to, event.actor]),
        [
          ['reset', null, 'web'],
          ['status', 'active', 'web'],
          ['status', 'disabled', 'web'],
          ['created', 'active', 'web'],
        ],
      )
      assert.match((await page.locator('section', {hasText: 'Events'}).last().textContent()) ?? '', /late payment/)
    })

    it('tops up and sets a quota, shown at once', async () => {
      await page.fill('form[action$="/topup"] input[name=size]', '2G')
      await Promise.all([page.waitForURL(`${serve.base}/users/dave`), page.click('form[action$="/topup"] button')])
      await page.getByText('dave topped up by 2.0 GiB.').waitFor()
      await page.fill('form[action$="/quota"] input[name=monthly]', '80')
      await Promise.all([page.waitForURL(`${serve.base}/users/dave`), page.click('form[action$="/quota"] button')])
      await page.getByText('Limits of dave saved.').waitFor()
      const dave = (await sbq('user', 'show', 'dave', '--json')).json
      assert.deepEqual([dave.monthlyQuota, dave.allowance], [80 * GiB, 82 * GiB])
      await page.fill('form[action$="/quota"] input[name=monthly]', 'lots')
      await Promise.all([page.waitForURL(`${serve.base}/users/dave`), page.click('form[action$="/quota"] button')])
      await page.getByText('monthly quota "lots" is not a size').waitFor()
    })

    it("shows a user's charts, forecast and, only on request, credentials", async () => {
      await page.goto(`${serve.base}/users/alice`)
      assert.equal(await page.locator('svg.chart').count(), 2)
      assert.equal(await page.locator('svg.chart g').count(), 30, 'one bar per day of the last 30')
      assert.equal(await page.locator('svg.chart line.chart-allowance').count(), 1)
      assert.match((await page.locator('.forecast').textContent()) ?? '', /Forecast/)
      assert.equal(await page.locator('#credentials dl.secrets').count(), 0)
      await page.screenshot({path: artifactPath('user.png'), fullPage: true})
      await page.click('a:has-text("Show credentials")')
      assert.equal(await page.locator('#credentials dl.secrets code').count(), 3)
    })

    it('refuses a POST without the CSRF token, and one with a wrong token, changing nothing', async () => {
      const bare = await page.request.post(`${serve.base}/users/alice/disable`, {
        form: {reason: 'forged'},
        maxRedirects: 0,
      })
      assert.equal(bare.status(), 403)
      const forged = await page.request.post(`${serve.base}/users/alice/disable`, {
        form: {reason: 'forged', _csrf: 'x'.repeat(43)},
        maxRedirects: 0,
      })
      assert.equal(forged.status(), 403)
      assert.equal(await userStatus('alice'), 'active')
    })

    it("shows a user's subscription URL and page with a QR code, and rotates them only after a confirmation", async () => {
      await page.goto(`${serve.base}/users/alice`)
      const card = page.locator('#subscription')
      const [url = '', pageUrl = ''] = await card.locator('code').allTextContents()
      assert.match(url, new RegExp(`^${serve.base}/sub/[A-Za-z0-9_-]{43}$`))
      assert.equal(pageUrl, url.replace('/sub/', '/u/'))
      assert.match((await (await page.request.get(pageUrl)).text()) ?? '', /<h1>alice<\/h1>/)
      if (zbarAvailable()) {
        await card.locator('.qr').screenshot({path: artifactPath('subscription-qr.png')})
        assert.deepEqual(decodeQr(artifactPath('subscription-qr.png')), [url])
      } else if (process.env.CI !== undefined)
        assert.fail('zbarimg is not installed (zbar-tools), and CI must decode QR codes')
      page.once('dialog', (dialog) => void dialog.dismiss())
      await card.locator('button[type=submit]').click()
      assert.deepEqual(await card.locator('code').allTextContents(), [url, pageUrl], 'dismissed: nothing changes')
      page.once('dialog', (dialog) => void dialog.accept())
      await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/users/alice/rotate-link')),
        card.locator('button[type=submit]').click(),
      ])
      await page.getByText('alice has a new subscription URL and page; the old ones no longer work.').waitFor()
      const [newUrl = '', newPageUrl = ''] = await card.locator('code').allTextContents()
      assert.notEqual(newUrl, url)
      assert.equal((await page.request.get(pageUrl)).status(), 404)
      assert.equal((await page.request.get(newPageUrl)).status(), 200)
    })

    it('removes a user only after the confirmation page', async () => {
      await page.goto(`${serve.base}/users/dave`)
      await Promise.all([page.waitForURL(`${serve.base}/users/dave/remove`), page.click('a:has-text("Remove user")')])
      await page.getByRole('heading', {name: 'Remove user dave?'}).waitFor()
      await Promise.all([page.waitForURL(`${serve.base}/`), page.click('button:has-text("Remove dave")')])
      await page.getByText('User dave removed.').waitFor()
      assert.deepEqual(await page.locator('table.users .user-link').allTextContents(), ['alice', 'bob', 'erin'])
      const show = await runSbq(['user', 'show', 'dave', '--json'], {db: workspace.db, env: clock})
      assert.equal(show.code, 3)
    })

    it('renders in Simplified Chinese for a zh-CN browser, and switches to English', async () => {
      const zh = await browser.newContext({locale: 'zh-CN', viewport: {width: 1280, height: 900}})
      try {
        const zhPage = await zh.newPage()
        await zhPage.goto(`${serve.base}/login`)
        assert.equal(await zhPage.locator('html').getAttribute('lang'), 'zh-CN')
        assert.equal(await zhPage.locator('h1').textContent(), '登录')
        await zhPage.fill('#password', password)
        await Promise.all([zhPage.waitForURL(`${serve.base}/`), zhPage.click('button[type=submit]')])
        assert.match((await zhPage.locator('.stats').textContent()) ?? '', /用户\s*3/)
        assert.deepEqual(await zhPage.locator('table.users .status').allTextContents(), ['正常', '正常', '已停用'])
        await zhPage.screenshot({path: artifactPath('dashboard-zh.png'), fullPage: true})
        await zhPage.goto(`${serve.base}/users/alice`)
        await zhPage.screenshot({path: artifactPath('user-zh.png'), fullPage: true})
        // waitForURL would return at once: the page is already /users/alice, and the switch comes back to it.
        const [switched] = await Promise.all([
          zhPage.waitForResponse((response) => /\/users\/alice\?lang=en$/.test(response.url())),
          zhPage.click('a[hreflang=en]'),
        ])
        assert.deepEqual([switched.status(), switched.headers().location], [303, '/users/alice'])
        await zhPage.waitForFunction("document.documentElement.lang === 'en'")
        assert.match((await zhPage.locator('.stats').textContent()) ?? '', /Period used/)
      } finally {
        await zh.close()
      }
    })

    it('is usable at phone width: no sideways scrolling, table rows as labelled cards', async () => {
      const phone = await browser.newContext({
        locale: 'en-US',
        viewport: {width: 390, height: 844},
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
      })
      try {
        const phonePage = await phone.newPage()
        await phonePage.goto(`${serve.base}/login`)
        await phonePage.fill('#password', password)
        await Promise.all([phonePage.waitForURL(`${serve.base}/`), phonePage.click('button[type=submit]')])
        const overflow = () =>
          phonePage.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')
        assert.equal(await overflow(), 0, 'the dashboard fits the width')
        assert.equal(await phonePage.locator('table.users thead').isVisible(), false)
        assert.equal(
          await phonePage.locator('select[name=order]').isVisible(),
          true,
          'a sort menu stands in for the headers',
        )
        await Promise.all([
          phonePage.waitForURL(/order=expires\.asc/),
          phonePage.selectOption('select[name=order]', 'expires.asc'),
        ])
        assert.deepEqual(await phonePage.locator('table.users .user-link').allTextContents(), ['bob', 'alice', 'erin'])
        await phonePage.screenshot({path: artifactPath('dashboard-phone.png'), fullPage: true})
        await phonePage.goto(`${serve.base}/users/alice`)
        assert.equal(await overflow(), 0, "the user's page fits the width")
        await phonePage.screenshot({path: artifactPath('user-phone.png'), fullPage: true})
      } finally {
        await phone.close()
      }
    })

    it('logs out: the session is gone on the server too', async () => {
      const cookie = (await context.cookies()).find((entry) => entry.name === 'sbq_session')!
      await Promise.all([page.waitForURL(/\/login\?m=loggedOut$/), page.click('button:has-text("Log out")')])
      await page.getByText('You are logged out.').waitFor()
      const replay = await fetch(`${serve.base}/`, {
        headers: {cookie: `sbq_session=${cookie.value}`},
        redirect: 'manual',
      })
      assert.equal(replay.status, 303)
      assert.equal(replay.headers.get('location'), '/login?m=expired')
    })
  },
)
