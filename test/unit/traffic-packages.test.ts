import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {bytesPastAllowance, packagesLeft, spendPackages} from '../../src/lib/domain/traffic-packages.js'

describe('traffic packages', () => {
  const now = 1000
  const packages = [
    {id: 1, bytes: 100, used: 0, valid_until: 5000},
    {id: 2, bytes: 50, used: 10, valid_until: 2000},
    {id: 3, bytes: 70, used: 0, valid_until: 900},
    {id: 4, bytes: 30, used: 30, valid_until: 9000},
  ]

  it('holds what live packages have left: expired and used-up ones hold nothing', () => {
    assert.equal(packagesLeft(packages, now), 100 + 40)
    assert.equal(packagesLeft(packages, 2000), 100)
    assert.equal(packagesLeft(undefined, now), 0)
  })

  it('charges only bytes past both the allowance and what was already past it', () => {
    assert.equal(bytesPastAllowance(50, 90, 100), 0)
    assert.equal(bytesPastAllowance(90, 130, 100), 30)
    assert.equal(bytesPastAllowance(130, 150, 100), 20)
    assert.equal(bytesPastAllowance(100, 100, 100), 0)
  })

  it('spends the package that runs out first, then the next; never more than they hold', () => {
    assert.deepEqual(spendPackages(packages, 60, now), [
      {id: 2, used: 50},
      {id: 1, used: 20},
    ])
    assert.deepEqual(spendPackages(packages, 500, now), [
      {id: 2, used: 50},
      {id: 1, used: 100},
    ])
    assert.deepEqual(spendPackages(packages, 0, now), [])
  })
})
