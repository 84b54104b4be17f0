import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  describeInbounds,
  effectiveInbounds,
  parseInboundsFlag,
  storedInbounds,
} from '../../src/lib/domain/inbound-choice.js'
import {allowedOn} from '../../src/lib/domain/traffic.js'
import {SbqError} from '../../src/lib/errors.js'

describe('inbound choice', () => {
  it('reads --inbounds as sorted unique tags, all, or (for a user) plan', () => {
    assert.deepEqual(parseInboundsFlag(' trojan-in, vless-in,trojan-in ', true), {tags: ['trojan-in', 'vless-in']})
    assert.deepEqual(parseInboundsFlag('all', false), {all: true})
    assert.deepEqual(parseInboundsFlag('plan', true), {plan: true})
    assert.deepEqual(parseInboundsFlag('plan', false), {tags: ['plan']}, 'a plan may have an inbound tagged plan')
  })

  it('refuses what is not a list of tags, with the fix', () => {
    for (const bad of ['', ',', 'a,,b', 'has space', '*', 'x'.repeat(65)])
      assert.throws(
        () => parseInboundsFlag(bad, true),
        (error: SbqError) =>
          error.code === 'INBOUNDS_INVALID' &&
          error.exit === 2 &&
          /--inbounds vless-in,trojan-in/.test(error.hint ?? ''),
        bad,
      )
  })

  it("takes the user's own choice over the plan's, and a user's all over a plan's list", () => {
    const plan = storedInbounds({tags: ['a']}, false)
    assert.deepEqual(effectiveInbounds(null, null), null)
    assert.deepEqual(effectiveInbounds(null, plan), ['a'])
    assert.deepEqual(effectiveInbounds(storedInbounds({tags: ['b', 'c']}, true), plan), ['b', 'c'])
    assert.deepEqual(effectiveInbounds(storedInbounds({all: true}, true), plan), null)
    assert.equal(storedInbounds({plan: true}, true), null, "plan: the user's own choice goes")
    assert.equal(storedInbounds({all: true}, false), null, "a plan's all is no choice")
    assert.equal(describeInbounds(null), 'all')
    assert.equal(describeInbounds(['b', 'c']), 'b,c')
  })

  it('allows a user without a choice everywhere, and one with a choice only there', () => {
    assert.equal(allowedOn({}, 'x'), true)
    assert.equal(allowedOn({inbounds: null}, 'x'), true)
    assert.equal(allowedOn({inbounds: ['x']}, 'x'), true)
    assert.equal(allowedOn({inbounds: ['x']}, 'y'), false)
    assert.equal(allowedOn({inbounds: []}, 'x'), false)
  })
})
