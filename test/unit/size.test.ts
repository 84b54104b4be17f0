import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {SbqError} from '../../src/lib/errors.js'
import {formatSize, parseSize} from '../../src/lib/domain/size.js'

const GiB = 1024 ** 3

describe('parseSize', () => {
  it('reads a bare number as GiB, as the design card does', () => {
    assert.equal(parseSize('100'), 100 * GiB)
    assert.equal(parseSize('1.5'), 1.5 * GiB)
  })

  it('reads K, M, G, T with or without B/iB as powers of 1024, any case', () => {
    assert.equal(parseSize('512M'), 512 * 1024 ** 2)
    assert.equal(parseSize('512MB'), 512 * 1024 ** 2)
    assert.equal(parseSize('512MiB'), 512 * 1024 ** 2)
    assert.equal(parseSize('2t'), 2 * 1024 ** 4)
    assert.equal(parseSize('1 GiB'), GiB)
    assert.equal(parseSize('3k'), 3072)
    assert.equal(parseSize('100B'), 100)
  })

  it('reads 0 and unlimited as no limit', () => {
    assert.equal(parseSize('0'), 0)
    assert.equal(parseSize('unlimited'), 0)
    assert.equal(parseSize('UNLIMITED'), 0)
  })

  for (const [text, pattern] of [
    ['-5', /is negative/],
    ['abc', /is not a size/],
    ['NaN', /is not a size/],
    ['5P', /is not a size/],
    ['5X', /is not a size/],
    ['', /is not a size/],
    ['1e3', /is not a size/],
    ['0.5B', /not a whole number of bytes/],
    ['1.3', /not a whole number of bytes/],
    ['9000000T', /too large/],
    ['8388608T', /too large/],
  ] as const) {
    it(`refuses "${text}" with exit 2 and a one-line message`, () => {
      assert.throws(
        () => parseSize(text, '--monthly'),
        (error: unknown) => {
          assert.ok(error instanceof SbqError)
          assert.equal(error.exit, 2)
          assert.equal(error.code, 'INVALID_SIZE')
          assert.match(error.message, pattern)
          assert.ok(error.message.includes(`"${text}"`))
          assert.ok(!error.message.includes('\n'))
          return true
        },
      )
    })
  }

  it('suggests a whole number of a smaller unit for a fraction', () => {
    assert.throws(
      () => parseSize('1.3'),
      (error: SbqError) => error.hint === 'use a whole number of a smaller unit, like 1331M',
    )
  })

  it('accepts sizes up to 2^53 bytes exactly', () => {
    assert.equal(parseSize(`${Number.MAX_SAFE_INTEGER}B`), Number.MAX_SAFE_INTEGER)
    assert.throws(() => parseSize(`${Number.MAX_SAFE_INTEGER + 1}B`), /too large/)
  })
})

describe('formatSize', () => {
  it('prints binary units with one decimal', () => {
    assert.equal(formatSize(0), '0 B')
    assert.equal(formatSize(1023), '1023 B')
    assert.equal(formatSize(1536), '1.5 KiB')
    assert.equal(formatSize(12.4 * GiB), '12.4 GiB')
    assert.equal(formatSize(100 * GiB), '100 GiB')
    assert.equal(formatSize(3 * 1024 ** 4), '3.0 TiB')
  })
})
