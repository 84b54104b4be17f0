import assert from 'node:assert/strict'
import type {IncomingMessage} from 'node:http'
import {after, before, describe, it} from 'node:test'

import type {Db} from '../../src/lib/db/open-database.js'
import {readSettings} from '../../src/lib/db/settings-repository.js'
import {getSettings} from '../../src/lib/settings/settings.js'
import {
  adminPasswordHash,
  assertAcceptablePassword,
  hashPassword,
  setAdminPassword,
  verifyPassword,
} from '../../src/lib/web/admin-password.js'
import {csrfTokenMatches, newCsrfToken} from '../../src/lib/web/csrf.js'
import {escapeHtml, html, raw} from '../../src/lib/web/html.js'
import {LoginRateLimit, rateLimitKey} from '../../src/lib/web/login-rate-limit.js'
import {
  absoluteLifetimeMs,
  createSession,
  endSession,
  idleLifetimeMs,
  loadSession,
  setFlash,
  takeFlash,
} from '../../src/lib/web/sessions.js'
import {VerificationSlots} from '../../src/lib/web/verification-slots.js'
import {clientIp, parseCookies, requestIsSecure, serializeCookie} from '../../src/lib/web/web-request.js'
import {rejectsWith} from '../support/assertions.js'
import {memoryDb} from '../support/memory-db.js'

const minute = 60_000
const hour = 60 * minute

describe('admin password hashing (scrypt)', () => {
  it('stores scrypt with its parameters and a fresh salt, and verifies only the same password', async () => {
    const first = await hashPassword('correct horse battery')
    const second = await hashPassword('correct horse battery')
    assert.match(first, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/)
    assert.notEqual(first, second, 'a new salt each time')
    assert.equal(await verifyPassword('correct horse battery', first), true)
    assert.equal(await verifyPassword('correct horse batterY', first), false)
    assert.equal(await verifyPassword('', first), false)
  })

  it('matches nothing against a malformed or foreign hash', async () => {
    for (const stored of [
      '',
      'plain',
      'bcrypt$x$y$z$a$b',
      'scrypt$0$8$1$c2FsdA==$a2V5',
      'scrypt$32768$8$1$c2FsdA==$',
      'scrypt$99999999$8$1$c2FsdA==$a2V5',
    ]) {
      assert.equal(await verifyPassword('anything at all', stored), false, stored)
    }
  })

  it('refuses empty, short and huge passwords with exit 2', () => {
    assert.throws(() => assertAcceptablePassword(''), rejectsWith('EMPTY_PASSWORD', 2, /is empty/))
    assert.throws(
      () => assertAcceptablePassword('123456789'),
      rejectsWith('PASSWORD_TOO_SHORT', 2, /of 9 characters is too short/),
    )
    assert.throws(() => assertAcceptablePassword('x'.repeat(1025)), rejectsWith('PASSWORD_TOO_LONG', 2))
    assert.equal(assertAcceptablePassword('1234567890'), '1234567890')
    assert.equal(
      assertAcceptablePassword('密码密码密码密码密码'),
      '密码密码密码密码密码',
      'ten characters, whatever their bytes',
    )
  })

  it('keeps only the hash in the database, not listed with the settings, and a new password ends every session', async () => {
    const db = await memoryDb()
    try {
      assert.equal(await adminPasswordHash(db), null)
      const now = Date.parse('2026-11-01T00:00:00Z')
      await createSession(db, now)
      await createSession(db, now)
      const result = await setAdminPassword(db, 'correct horse battery', now)
      assert.deepEqual(result, {passwordSet: true, sessionsEnded: 2})
      const stored = await adminPasswordHash(db)
      assert.ok(stored && (await verifyPassword('correct horse battery', stored)))
      assert.equal((await readSettings(db)).get('web-admin-password'), stored, 'stored under this key')
      assert.ok(
        !(await getSettings(db)).some((setting) => setting.key === 'web-admin-password' || setting.value === stored),
        'which sbq config get does not list',
      )
      await assert.rejects(setAdminPassword(db, 'short', now), rejectsWith('PASSWORD_TOO_SHORT', 2))
      assert.equal(await adminPasswordHash(db), stored, 'a refused password changes nothing')
    } finally {
      await db.destroy()
    }
  })
})

describe('CSRF tokens', () => {
  it('are 32 random bytes and match only themselves', () => {
    const token = newCsrfToken()
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    assert.notEqual(newCsrfToken(), token)
    assert.equal(csrfTokenMatches(token, token), true)
    assert.equal(csrfTokenMatches(`${token.slice(0, -1)}x`, token), false)
    assert.equal(csrfTokenMatches(token.slice(0, 10), token), false)
    assert.equal(csrfTokenMatches('', ''), false)
    assert.equal(csrfTokenMatches(null, token), false)
    assert.equal(csrfTokenMatches(token, undefined), false)
  })
})

describe('dashboard sessions', () => {
  let db: Db
  const start = Date.parse('2026-11-01T00:00:00Z')
  before(async () => {
    db = await memoryDb()
  })
  after(async () => db.destroy())

  it('gives a random id for the cookie and stores only its hash', async () => {
    const {id, session} = await createSession(db, start)
    assert.match(id, /^[A-Za-z0-9_-]{43}$/)
    const rows = await db.selectFrom('web_sessions').selectAll().execute()
    assert.ok(rows.every((row) => row.id_hash !== id))
    assert.ok(rows.some((row) => row.id_hash === session.idHash && row.csrf_token === session.csrfToken))
    assert.equal((await loadSession(db, id, start + minute))?.csrfToken, session.csrfToken)
  })

  it('ends after the idle time, and moves the idle expiry while used', async () => {
    const {id} = await createSession(db, start)
    assert.equal(await loadSession(db, id, start + idleLifetimeMs), null, 'idle for the whole idle time')
    const {id: busy} = await createSession(db, start)
    let now = start
    for (let step = 0; step < 5; step++) {
      now += idleLifetimeMs - hour
      assert.ok(await loadSession(db, busy, now), `still live at step ${step}`)
    }
  })

  it('ends after the absolute lifetime however busy', async () => {
    const {id} = await createSession(db, start)
    let now = start
    while (now + hour < start + absoluteLifetimeMs) {
      now += hour
      assert.ok(await loadSession(db, id, now))
    }
    assert.equal(await loadSession(db, id, start + absoluteLifetimeMs + 1), null)
  })

  it('ends at logout, and refuses ids it never gave', async () => {
    const {id, session} = await createSession(db, start)
    await endSession(db, session)
    assert.equal(await loadSession(db, id, start + 1), null)
    for (const forged of [undefined, '', 'x', 'A'.repeat(43), `${id}x`])
      assert.equal(await loadSession(db, forged, start + 1), null, String(forged))
  })

  it('shows a flash once', async () => {
    const {id, session} = await createSession(db, start)
    await setFlash(db, session, {kind: 'ok', lines: ['saved'], warnings: ['node x was not updated']})
    const loaded = (await loadSession(db, id, start + 1))!
    assert.deepEqual(await takeFlash(db, loaded), {kind: 'ok', lines: ['saved'], warnings: ['node x was not updated']})
    assert.equal(await takeFlash(db, (await loadSession(db, id, start + 2))!), null)
  })
})

describe('login rate limit', () => {
  it('allows 5 attempts from an IP in 15 minutes, then blocks it until the oldest ages out, other IPs unaffected', () => {
    const limit = new LoginRateLimit()
    const t0 = 1_000_000
    for (let attempt = 0; attempt < 4; attempt++) assert.equal(limit.begin('203.0.113.9', t0 + attempt * minute), 0)
    assert.equal(limit.retryAfterMs('203.0.113.9', t0 + 4 * minute), 0, 'four attempts still allow a fifth')
    assert.equal(limit.begin('203.0.113.9', t0 + 4 * minute), 0)
    assert.equal(limit.begin('203.0.113.9', t0 + 4 * minute), 11 * minute, 'the sixth is refused, and not recorded')
    assert.equal(limit.retryAfterMs('203.0.113.9', t0 + 4 * minute), 11 * minute)
    assert.equal(limit.begin('203.0.113.10', t0 + 4 * minute), 0)
    assert.equal(limit.retryAfterMs('203.0.113.9', t0 + 15 * minute), 0, 'the first attempt aged out')
  })

  it('counts an attempt as it begins, so attempts in flight together stop at the limit', () => {
    const limit = new LoginRateLimit()
    const answers = Array.from({length: 12}, () => limit.begin('198.51.100.3', 5000))
    assert.equal(answers.filter((wait) => wait === 0).length, 5)
    assert.ok(answers.slice(5).every((wait) => wait === 15 * minute))
  })

  it('forgets an IP after a success, and tracks a bounded number of IPs', () => {
    const limit = new LoginRateLimit(5, 15 * minute, 100)
    for (let attempt = 0; attempt < 5; attempt++) limit.begin('198.51.100.1', attempt)
    limit.succeed('198.51.100.1')
    assert.equal(limit.retryAfterMs('198.51.100.1', 10), 0)
    for (let index = 0; index < 1000; index++) limit.begin(`10.0.${index >> 8}.${index & 255}`, index)
    assert.equal(limit.tracked, 100)
  })

  it('keys IPv4 by address and IPv6 by its /64', () => {
    assert.equal(rateLimitKey('203.0.113.9'), '203.0.113.9')
    assert.equal(rateLimitKey('::ffff:203.0.113.9'), '203.0.113.9')
    assert.equal(rateLimitKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64')
    assert.equal(rateLimitKey('2001:0DB8:0001:0002::1'), '2001:db8:1:2::/64')
    assert.equal(rateLimitKey('2001:db8::1'), '2001:db8:0:0::/64')
    assert.equal(rateLimitKey('2001:db8:0:0:1::'), '2001:db8:0:0::/64')
    assert.equal(rateLimitKey('fe80::1%eth0'), 'fe80:0:0:0::/64')
    assert.equal(rateLimitKey('::1'), '0:0:0:0::/64')
    assert.equal(rateLimitKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64')
    assert.equal(rateLimitKey('unknown'), 'unknown')
    const limit = new LoginRateLimit()
    for (let host = 1; host <= 5; host++) assert.equal(limit.begin(rateLimitKey(`2001:db8:1:2::${host}`), 0), 0)
    assert.ok(
      limit.begin(rateLimitKey('2001:db8:1:2:ffff::9'), 0) > 0,
      'a new address in the same /64 is the same client',
    )
    assert.equal(limit.begin(rateLimitKey('2001:db8:1:3::1'), 0), 0, 'the next /64 is another client')
  })
})

describe('password check slots', () => {
  it('gives out at most max at once, and takes them back', () => {
    const slots = new VerificationSlots(2)
    assert.deepEqual([slots.tryTake(), slots.tryTake(), slots.tryTake()], [true, true, false])
    slots.release()
    assert.equal(slots.tryTake(), true)
    assert.equal(slots.inUse, 2)
  })
})

function fakeRequest(
  headers: Record<string, string>,
  socket: {remoteAddress?: string; encrypted?: boolean} = {remoteAddress: '127.0.0.1'},
): IncomingMessage {
  return {headers, socket} as unknown as IncomingMessage
}

describe('dashboard requests', () => {
  it('reads cookies, skipping malformed pairs and keeping the first of a name', () => {
    const cookies = parseCookies('a=1; b=x%20y; broken; =v; a=2; c=%E0%A4%A')
    assert.deepEqual(
      [...cookies],
      [
        ['a', '1'],
        ['b', 'x y'],
      ],
    )
  })

  it('writes session cookies HttpOnly and SameSite=Strict, Secure only when asked', () => {
    assert.equal(
      serializeCookie('sbq_session', 'abc', {secure: false, maxAge: 60}),
      'sbq_session=abc; Path=/; SameSite=Strict; HttpOnly; Max-Age=60',
    )
    assert.equal(
      serializeCookie('sbq_session', '', {secure: true, maxAge: 0}),
      'sbq_session=; Path=/; SameSite=Strict; HttpOnly; Secure; Max-Age=0',
    )
  })

  it('believes X-Forwarded-Proto and X-Forwarded-For only with --trust-proxy', () => {
    const proxied = fakeRequest({'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7, 203.0.113.5'})
    assert.equal(requestIsSecure(proxied, false), false)
    assert.equal(requestIsSecure(proxied, true), true)
    assert.equal(requestIsSecure(fakeRequest({'x-forwarded-proto': 'http'}), true), false)
    assert.equal(requestIsSecure(fakeRequest({}, {encrypted: true}), false), true)
    assert.equal(clientIp(proxied, false), '127.0.0.1')
    assert.equal(clientIp(proxied, true), '203.0.113.5', 'the address the proxy added, not what the client claimed')
    assert.equal(clientIp(fakeRequest({}), true), '127.0.0.1')
  })

  it('believes them with --trust-proxy only from a loopback peer, the proxy beside sbq', () => {
    const headers = {'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7'}
    for (const peer of ['203.0.113.50', '10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1', '2001:db8::1', '::']) {
      const request = fakeRequest(headers, {remoteAddress: peer})
      assert.equal(clientIp(request, true), peer, `${peer}: its own address, not the one it claims`)
      assert.equal(requestIsSecure(request, true), false, `${peer}: X-Forwarded-Proto ignored`)
    }
    assert.equal(clientIp(fakeRequest(headers, {}), true), 'unknown', 'no peer address: nothing to trust')
    for (const peer of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      const request = fakeRequest(headers, {remoteAddress: peer})
      assert.equal(clientIp(request, true), '198.51.100.7', peer)
      assert.equal(requestIsSecure(request, true), true, peer)
    }
  })
})

describe('HTML escaping', () => {
  it('escapes every interpolated value, in text and attributes', () => {
    assert.equal(
      escapeHtml(`<a href="x" title='y'>&</a>`),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    )
    const note = `"><script>alert(1)</script>`
    assert.equal(html`<input value="${note}">`.text, '<input value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">')
    assert.equal(html`<p>${note}</p>`.text.includes('<script>'), false)
  })

  it('nests templates and lists without escaping them twice, and renders nothing for null, undefined and booleans', () => {
    const items = ['a<b', 'c&d'].map((item) => html`<li>${item}</li>`)
    assert.equal(html`<ul>${items}</ul>`.text, '<ul><li>a&lt;b</li><li>c&amp;d</li></ul>')
    assert.equal(html`${null}${undefined}${false}${true}${0}`.text, '0')
    assert.equal(html`${raw('<br>')}`.text, '<br>')
  })
})
