import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {SbqError} from '../../src/lib/errors.js'
import {effectiveExpiry, expiryFromFirstUse, parseExpiry, parseFirstUseExpiry} from '../../src/lib/domain/expiry.js'
import {rejectsWith} from '../support/assertions.js'
import {assertUserName, proxyNameKey} from '../../src/lib/domain/user-name.js'
import {generateCredentials} from '../../src/lib/users/credentials.js'

const now = Date.parse('2024-05-10T12:00:00Z')
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

describe('parseExpiry', () => {
  it('reads a date as the start of that day in the install zone', () => {
    assert.equal(iso(parseExpiry('2024-06-30', now, 'UTC')), '2024-06-30T00:00:00.000Z')
    assert.equal(iso(parseExpiry('2024-06-30', now, 'Europe/Berlin')), '2024-06-29T22:00:00.000Z')
    assert.equal(iso(parseExpiry('2024-06-30T18:30', now, 'UTC')), '2024-06-30T18:30:00.000Z')
    assert.equal(iso(parseExpiry('2024-06-30T18:30:00+02:00', now, 'UTC')), '2024-06-30T16:30:00.000Z')
  })

  it('reads durations from now, months by the calendar', () => {
    assert.equal(iso(parseExpiry('12h', now, 'UTC')), '2024-05-11T00:00:00.000Z')
    assert.equal(iso(parseExpiry('30d', now, 'UTC')), '2024-06-09T12:00:00.000Z')
    assert.equal(iso(parseExpiry('2w', now, 'UTC')), '2024-05-24T12:00:00.000Z')
    assert.equal(iso(parseExpiry('1mo', now, 'UTC')), '2024-06-10T12:00:00.000Z')
    assert.equal(iso(parseExpiry('1y', now, 'UTC')), '2025-05-10T12:00:00.000Z')
    assert.equal(iso(parseExpiry('1mo', Date.parse('2024-01-31T00:00:00Z'), 'UTC')), '2024-02-29T00:00:00.000Z')
  })

  it('reads never as no expiry', () => {
    assert.equal(parseExpiry('never', now, 'UTC'), null)
  })

  for (const text of ['2024-13-01', '2024-02-30', 'tomorrow', '5m', '-3d', '2024-06-30T25:00', '']) {
    it(`refuses "${text}"`, () => {
      assert.throws(
        () => parseExpiry(text, now, 'UTC'),
        (error: unknown) => error instanceof SbqError && error.exit === 2 && error.code === 'INVALID_EXPIRY',
      )
    })
  }
})

describe('user names', () => {
  it('accepts what every proxy accepts as an email or name', () => {
    for (const name of ['alice', 'a', 'bob.smith@example.com', 'user_1-x', 'x'.repeat(64)])
      assert.equal(assertUserName(name), name)
  })

  for (const name of ['', 'x'.repeat(65), 'has space', 'semi;colon', 'slash/', 'quote"', 'émile', 'a>>>b']) {
    it(`refuses ${JSON.stringify(name)}`, () => {
      assert.throws(
        () => assertUserName(name),
        (error: unknown) => error instanceof SbqError && error.exit === 2 && error.code === 'INVALID_NAME',
      )
    })
  }
})

describe('proxyNameKey: names as Xray and V2Ray compare them (Go strings.ToLower)', () => {
  it('folds case, so two spellings of one name share a key', () => {
    assert.equal(proxyNameKey('ALICE@Example.com'), proxyNameKey('alice@example.com'))
    assert.notEqual(proxyNameKey('alice'), proxyNameKey('alice2'))
  })

  it('maps each code point alone, as Go does: no final sigma, and a dotted capital I is a plain i', () => {
    assert.equal(proxyNameKey('ΟΔΟΣ'), 'οδοσ')
    assert.equal(proxyNameKey('\u0130stanbul'), 'istanbul')
  })
})

describe('dot-only user names', () => {
  for (const name of ['.', '..', '...']) {
    it(`refuses ${JSON.stringify(name)}, which a URL path cannot name`, () => {
      assert.throws(
        () => assertUserName(name),
        (error: unknown) =>
          error instanceof SbqError &&
          error.exit === 2 &&
          error.code === 'INVALID_NAME' &&
          error.message === `user name "${name}" is only dots` &&
          error.hint === 'add a letter, digit, "_", "@" or "-" to it',
      )
    })
  }

  it('accepts dots beside anything else', () => {
    for (const name of ['.a', 'a.', '..b..', '._', '.@.', '-.']) assert.equal(assertUserName(name), name)
  })
})

describe('credentials', () => {
  it('generates a v4 UUID and base64 keys of 32 and 16 bytes', () => {
    const credentials = generateCredentials()
    assert.match(credentials.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(Buffer.from(credentials.password, 'base64').length, 32)
    assert.equal(Buffer.from(credentials.password16, 'base64').length, 16)
    assert.notEqual(generateCredentials().password, credentials.password)
  })

  it('keeps credentials an operator brings, and refuses unusable ones', () => {
    const credentials = generateCredentials({
      uuid: 'AAAAAAAA-1111-4222-8333-444444444444',
      password: 'hunter2-but-longer',
    })
    assert.equal(credentials.uuid, 'aaaaaaaa-1111-4222-8333-444444444444')
    assert.equal(credentials.password, 'hunter2-but-longer')
    assert.throws(() => generateCredentials({uuid: 'not-a-uuid'}), /uuid "not-a-uuid" is not a UUID/)
    assert.throws(() => generateCredentials({password: 'short'}), /password "short" is not usable/)
  })
})

describe('expiry from first use', () => {
  const may10 = Date.parse('2024-05-10T12:00:00Z')

  it('starts at the first byte, in calendar months for mo, at the deadline when that came first', () => {
    const pending = parseFirstUseExpiry('1mo', undefined, may10, 'Europe/Berlin')
    assert.deepEqual(pending, {expiresAfter: '1mo', firstUseBy: null})
    const firstUse = Date.parse('2024-01-31T10:00:00Z')
    assert.equal(
      new Date(expiryFromFirstUse(pending, firstUse, 'Europe/Berlin')).toISOString(),
      '2024-02-29T10:00:00.000Z',
    )
    const withDeadline = parseFirstUseExpiry('7d', '2024-05-20', may10, 'UTC')
    assert.equal(withDeadline.firstUseBy, Date.parse('2024-05-20T00:00:00Z'))
    assert.equal(
      new Date(expiryFromFirstUse(withDeadline, Date.parse('2024-06-01T00:00:00Z'), 'UTC')).toISOString(),
      '2024-05-27T00:00:00.000Z',
      'used after the deadline: the clock had already started there',
    )
  })

  it('is in force before it is stored only once the deadline has passed', () => {
    const user = {expires_at: null, expires_after: '7d', first_use_by: Date.parse('2024-05-20T00:00:00Z')}
    assert.equal(effectiveExpiry(user, Date.parse('2024-05-19T00:00:00Z'), 'UTC'), null)
    assert.equal(effectiveExpiry(user, Date.parse('2024-05-21T00:00:00Z'), 'UTC'), Date.parse('2024-05-27T00:00:00Z'))
    assert.equal(effectiveExpiry({...user, first_use_by: null}, Date.parse('2030-01-01T00:00:00Z'), 'UTC'), null)
    assert.equal(effectiveExpiry({...user, expires_at: 5}, 0, 'UTC'), 5, 'a stored expiry wins')
  })

  it('refuses a date, a deadline in the past, and nothing', () => {
    assert.throws(() => parseFirstUseExpiry('2025-01-01', undefined, may10, 'UTC'), rejectsWith('INVALID_EXPIRY', 2))
    assert.throws(() => parseFirstUseExpiry(undefined, undefined, may10, 'UTC'), rejectsWith('INVALID_EXPIRY', 2))
    assert.throws(
      () => parseFirstUseExpiry('30d', '2024-01-01', may10, 'UTC'),
      rejectsWith('INVALID_EXPIRY', 2, /not a time after now/),
    )
  })
})
