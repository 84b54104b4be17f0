import assert from 'node:assert/strict'
import {copyFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import type {Browser, BrowserContextOptions} from 'playwright-core'

import {artifactPath, browserSkipReason, launchChromium} from '../support/browser.js'
import {fixturesDir} from '../support/paths.js'
import {decodeQr, zbarAvailable} from '../support/qr-image.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {startServe, type RunningServe} from '../support/run-serve.js'
import {seedHistory} from '../support/seed-history.js'

/** Mid-month: this period holds 20 of the 30 seeded days, whatever the real date is. */
const clock = {SBQ_NOW: '2024-05-20T12:00:00Z'}

const screens: Record<'desktop' | 'phone', BrowserContextOptions> = {
  desktop: {viewport: {width: 1280, height: 900}},
  phone: {viewport: {width: 390, height: 844}, deviceScaleFactor: 2, isMobile: true, hasTouch: true},
}

const words = {
  en: {locale: 'en-US', used: 'Used this period', subscription: 'Subscription', copied: 'Copied'},
  'zh-CN': {locale: 'zh-CN', used: '本周期已用', subscription: '订阅', copied: '已复制'},
} as const

describe(
  "a user's own page in Debian Chromium (real sbq serve without the dashboard, real browser)",
  {skip: browserSkipReason() ?? false, timeout: 180_000},
  () => {
    const workspace = tempWorkspace('sbq-browser-user-')
    const sbq = async (...args: string[]) => {
      const result = await runSbq([...args, '--json'], {db: workspace.db, env: clock})
      assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
      return result.json
    }
    let serve: RunningServe
    let browser: Browser
    let pagePath: string
    let links: string[]

    before(async () => {
      const configPath = join(workspace.dir, 'v2ray.json')
      copyFileSync(join(fixturesDir, 'v2ray-config.json'), configPath)
      await sbq('config', 'set', 'timezone', 'UTC')
      await sbq('node', 'add', 'de1', '--type', 'v2ray', '--api', '127.0.0.1:1', '--config', configPath)
      await sbq('node', 'set', 'de1', '--public-host', 'vpn.example.com')
      await sbq('user', 'add', 'alice', '--monthly', '20', '--expires', '2024-12-31', '--no-apply')
      await sbq('quota', 'topup', 'alice', '5')
      seedHistory(workspace.db, 'alice', Date.parse(clock.SBQ_NOW))
      const shown = await sbq('user', 'link', 'alice')
      pagePath = shown.subscription.pagePath
      links = shown.nodes[0].links.map((entry: {link: string}) => entry.link)
      serve = await startServe(workspace.db, clock, ['--metrics-public'])
      assert.match(serve.stderr(), /dashboard off: no admin password/)
      browser = await launchChromium()
    })

    after(async () => {
      await browser?.close()
      await serve?.stop()
      workspace.cleanup()
    })

    for (const screen of ['desktop', 'phone'] as const) {
      for (const language of ['en', 'zh-CN'] as const) {
        it(`shows usage, the period's days and every link with a QR code: ${screen}, ${language}`, async () => {
          const context = await browser.newContext({...screens[screen], locale: words[language].locale})
          try {
            const page = await context.newPage()
            page.setDefaultTimeout(15_000)
            const errors: string[] = []
            page.on('console', (message) => {
              if (message.type() === 'error') errors.push(message.text())
            })
            const response = await page.goto(`${serve.base}${pagePath}`)
            assert.equal(response?.status(), 200)
            assert.equal(await page.locator('html').getAttribute('lang'), language)
            assert.equal(await page.locator('h1').textContent(), 'alice')
            const stats = (await page.locator('.stats').textContent()) ?? ''
            assert.match(stats, new RegExp(`${words[language].used}\\s*\\d+\\.\\d GiB / 25\\.0 GiB`))
            assert.match(stats, /2024-06-01/)
            assert.match(stats, /2024-12-31/)
            assert.equal(await page.locator('.stats svg.bar rect.bar-fill').count(), 1)
            assert.equal(await page.locator('#daily svg.chart g').count(), 20, 'one bar per day of this period so far')
            assert.equal(await page.locator('#links .qr svg').count(), links.length)
            assert.equal(await page.locator('#subscription h2').textContent(), words[language].subscription)
            assert.deepEqual(
              await page.locator('#links code').allTextContents(),
              links,
              'each link as sbq user link prints it',
            )
            assert.equal(
              await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
              0,
              'no sideways scrolling',
            )
            const background = await page.evaluate(
              "getComputedStyle(document.querySelector('header.top')).backgroundColor",
            )
            assert.equal(background, 'rgb(17, 24, 39)', 'the stylesheet applied under the CSP')
            assert.deepEqual(errors, [])
            await page.screenshot({path: artifactPath(`user-page-${screen}-${language}.png`), fullPage: true})
          } finally {
            await context.close()
          }
        })
      }
    }

    it('draws QR codes that decode to the subscription URL and to each link', async (t) => {
      if (!zbarAvailable()) {
        if (process.env.CI !== undefined)
          assert.fail('zbarimg is not installed (zbar-tools), and CI must decode QR codes')
        t.skip('zbarimg not installed (apt-get install zbar-tools)')
        return
      }
      const context = await browser.newContext(screens.desktop)
      try {
        const page = await context.newPage()
        await page.goto(`${serve.base}${pagePath}`)
        const subscriptionUrl = `${serve.base}${pagePath.replace('/u/', '/sub/')}`
        const codes = page.locator('.qr')
        const decoded: string[] = []
        for (let index = 0; index < (await codes.count()); index++) {
          const image = artifactPath(`user-page-qr-${index}.png`)
          await codes.nth(index).screenshot({path: image})
          decoded.push(...decodeQr(image))
        }
        assert.deepEqual(decoded, [subscriptionUrl, ...links])
      } finally {
        await context.close()
      }
    })

    it('copies a link with its button, through the clipboard API on a secure origin', async () => {
      const context = await browser.newContext(screens.phone)
      try {
        await context.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: serve.base})
        const page = await context.newPage()
        await page.goto(`${serve.base}${pagePath}`)
        const button = page.locator('#links button.copy').first()
        await button.click()
        await page.locator('#links button.copy', {hasText: words.en.copied}).first().waitFor()
        assert.equal(await page.evaluate('navigator.clipboard.readText()'), links[0])
      } finally {
        await context.close()
      }
    })

    it('copies on plain HTTP off loopback too, where browsers have no clipboard API', async () => {
      // A name that is not "localhost" makes the page an insecure context, as a phone reaching a server's plain
      // HTTP address would see it; Chromium still connects to 127.0.0.1.
      const insecure = await launchChromium(['--host-resolver-rules=MAP sbq-portal.test 127.0.0.1'])
      try {
        const context = await insecure.newContext(screens.phone)
        const page = await context.newPage()
        const port = new URL(serve.base).port
        await page.goto(`http://sbq-portal.test:${port}${pagePath}`)
        assert.equal(await page.evaluate('window.isSecureContext'), false)
        assert.equal(await page.evaluate('navigator.clipboard === undefined'), true)
        await page.locator('#subscription button.copy').click()
        await page.locator('#subscription button.copy', {hasText: words.en.copied}).waitFor()
        // Read back by pasting into a field on the same page.
        await page.evaluate(`(() => {
          const field = document.createElement('textarea')
          field.id = 'paste-here'
          document.body.append(field)
        })()`)
        await page.locator('#paste-here').focus()
        await page.keyboard.press('Control+V')
        assert.equal(
          await page.locator('#paste-here').inputValue(),
          `http://sbq-portal.test:${port}${pagePath.replace('/u/', '/sub/')}`,
        )
      } finally {
        await insecure.close()
      }
    })
  },
)
