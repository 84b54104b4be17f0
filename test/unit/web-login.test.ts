import assert from 'node:assert/strict'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'

import type {Db} from '../../src/lib/db/open-database.js'
import {setAdminPassword} from '../../src/lib/web/admin-password.js'
import {createDashboard, type DashboardOptions} from '../../src/lib/web/dashboard.js'
import {VerificationSlots} from '../../src/lib/web/verification-slots.js'
import {contextAt, memoryDb} from '../support/memory-db.js'

const password = 'a long enough admin password'
const minute = 60_000

/** The dashboard handler on a loopback port of its own, over an in-memory database. */
async function startDashboard(
  db: Db,
  options: Partial<DashboardOptions>,
): Promise<{base: string; log: string[]; close: () => Promise<void>}> {
  const log: string[] = []
  const handler = createDashboard({
    db,
    context: async () => ({...contextAt('2026-11-01T00:00:00Z'), actor: 'web'}),
    trustProxy: false,
    log: (line) => log.push(line),
    ...options,
  })
  const server: Server = createServer((request, response) => {
    handler(request, response).catch((error: unknown) => {
      response.writeHead(500)
      response.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {base: `http://127.0.0.1:${port}`, log, close: () => new Promise((resolve) => server.close(() => resolve()))}
}

/** A login form token and its cookie, as GET /login gives them. */
async function loginForm(base: string): Promise<{token: string; cookie: string}> {
  const response = await fetch(`${base}/login`)
  const token = /name="_csrf" value="([^"]+)"/.exec(await response.text())![1]!
  const cookie = response.headers
    .getSetCookie()
    .find((line) => line.startsWith('sbq_login='))!
    .split(';')[0]!
  return {token, cookie}
}

async function postLogin(base: string, secret: string, headers: Record<string, string> = {}): Promise<Response> {
  const {token, cookie} = await loginForm(base)
  return fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {'content-type': 'application/x-www-form-urlencoded', cookie, ...headers},
    body: new URLSearchParams({_csrf: token, password: secret}).toString(),
  })
}

describe('dashboard login under parallel attempts (the handler over real HTTP)', () => {
  let db: Db
  before(async () => {
    db = await memoryDb()
    await setAdminPassword(db, password, Date.parse('2026-11-01T00:00:00Z'))
  })
  after(async () => db.destroy())

  it('checks at most 5 of 12 parallel wrong passwords from one IP; then even the right one waits out the window', async () => {
    let clock = Date.parse('2026-11-01T00:00:00Z')
    const dashboard = await startDashboard(db, {now: () => clock})
    try {
      const forms = await Promise.all(Array.from({length: 12}, () => loginForm(dashboard.base)))
      const responses = await Promise.all(
        forms.map(({token, cookie}, index) =>
          fetch(`${dashboard.base}/login`, {
            method: 'POST',
            redirect: 'manual',
            headers: {'content-type': 'application/x-www-form-urlencoded', cookie},
            body: new URLSearchParams({_csrf: token, password: `wrong guess ${index}`}).toString(),
          }),
        ),
      )
      const statuses = responses.map((response) => response.status)
      const checked = statuses.filter((status) => status === 401).length
      assert.ok(checked >= 1 && checked <= 5, `${checked} guesses were checked: ${statuses.join(' ')}`)
      assert.equal(statuses.filter((status) => status === 429).length, 12 - checked, statuses.join(' '))
      assert.equal(dashboard.log.filter((line) => line === 'dashboard: failed login from 127.0.0.1').length, checked)

      clock += 14 * minute
      const blocked = await postLogin(dashboard.base, password)
      assert.equal(blocked.status, 429, 'the right password is refused while the window lasts')
      assert.equal(blocked.headers.get('retry-after'), '60')
      assert.equal(
        blocked.headers.getSetCookie().some((line) => line.startsWith('sbq_session=')),
        false,
      )

      clock += minute
      const allowed = await postLogin(dashboard.base, password)
      assert.deepEqual([allowed.status, allowed.headers.get('location')], [303, '/'])
      assert.equal((await postLogin(dashboard.base, 'wrong once more')).status, 401, 'a success cleared the attempts')
    } finally {
      await dashboard.close()
    }
  })

  it('refuses a login with 429 and Retry-After 1 while every password check slot is taken, whichever the address', async () => {
    const dashboard = await startDashboard(db, {trustProxy: true, verificationSlots: new VerificationSlots(1)})
    try {
      const responses = await Promise.all(
        Array.from({length: 8}, (_, index) =>
          postLogin(dashboard.base, `wrong guess ${index}`, {'x-forwarded-for': `198.51.100.${index + 1}`}),
        ),
      )
      const busy = responses.filter((response) => response.status === 429)
      assert.ok(busy.length >= 1, responses.map((response) => response.status).join(' '))
      assert.equal(busy.length + responses.filter((response) => response.status === 401).length, 8)
      assert.ok(busy.every((response) => response.headers.get('retry-after') === '1'))
      assert.match(await busy[0]!.text(), /Too many logins are being checked at once/)
      assert.ok(
        dashboard.log.some((line) =>
          /^dashboard: login from 198\.51\.100\.\d refused: 1 password checks already running$/.test(line),
        ),
      )
      assert.equal(
        (await postLogin(dashboard.base, password, {'x-forwarded-for': '198.51.100.99'})).status,
        303,
        'the slot is free again',
      )
    } finally {
      await dashboard.close()
    }
  })
})
