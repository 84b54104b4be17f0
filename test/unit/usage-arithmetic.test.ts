import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {byTotalThenName, percentOf, referenceInstant, sumUsage, usage} from '../../src/lib/domain/usage-arithmetic.js'

describe('usage arithmetic (domain, no database)', () => {
  it('sums bytes exactly past 2^32 and keeps total = up + down', () => {
    const rows = [usage({up: 2 ** 40, down: 1}), usage({up: 3, down: 2 ** 33})]
    assert.deepEqual(sumUsage(rows), {up: 2 ** 40 + 3, down: 2 ** 33 + 1, total: 2 ** 40 + 2 ** 33 + 4})
    assert.deepEqual(sumUsage([]), {up: 0, down: 0, total: 0})
  })

  it('gives a share of the allowance to one decimal, and none without an allowance or usage', () => {
    assert.equal(percentOf(1, 3), 33.3)
    assert.equal(percentOf(2, 3), 66.7)
    assert.equal(percentOf(150, 100), 150)
    assert.equal(percentOf(5, 0), null, 'unlimited')
    assert.equal(percentOf(null, 100), null, 'usage unknown (pruned)')
    assert.equal(percentOf(5, null), null, 'a removed user')
  })

  it('judges a past month at its last moment and the current one at now', () => {
    const month = {start: 1_000, end: 2_000}
    assert.equal(referenceInstant(month, 5_000), 1_999)
    assert.equal(referenceInstant(month, 1_500), 1_500)
    assert.equal(referenceInstant(month, 10), 1_000)
  })

  it('orders the busiest first, then by name', () => {
    const rows = [
      {name: 'b', ...usage({up: 1, down: 0})},
      {name: 'a', ...usage({up: 0, down: 1})},
      {name: 'c', ...usage({up: 5, down: 5})},
    ]
    assert.deepEqual(
      rows.sort(byTotalThenName).map((row) => row.name),
      ['c', 'a', 'b'],
    )
  })
})
