import assert from 'node:assert/strict'
import {test} from 'node:test'

import {decideStatus, limitedForSharing, maxIpsReason} from '../../src/lib/domain/decide-status.js'

const now = Date.parse('2024-05-20T12:10:00Z')
const sharer = {
  name: 'carol',
  status: 'limited' as const,
  expiresAt: null,
  monthlyQuota: 0,
  totalQuota: 0,
  periodUsed: 0,
  allowance: 0,
  packagesLeft: 0,
  totalUsed: 0,
  maxIps: 2,
}

test('a sharer stays limited while the cool-down runs, whatever the count, and is re-enabled after it', () => {
  const rule = {enforceMaxIps: true, ipsSeen: undefined}
  assert.equal(decideStatus(sharer, now, {...rule, coolingDownUntil: now + 1}), null)
  assert.deepEqual(decideStatus(sharer, now, {...rule, coolingDownUntil: now})?.to, 'active')
  assert.deepEqual(decideStatus(sharer, now, rule)?.to, 'active')
})

test('the cool-down holds nobody once enforce-max-ips is off, and never outranks expiry', () => {
  assert.equal(decideStatus(sharer, now, {enforceMaxIps: false, coolingDownUntil: now + 60_000})?.to, 'active')
  assert.equal(
    decideStatus({...sharer, expiresAt: '2024-05-20T12:00:00.000Z'}, now, {
      enforceMaxIps: true,
      coolingDownUntil: now + 60_000,
    })?.to,
    'expired',
  )
})

test('only a limit for sharing is recognised as one', () => {
  assert.equal(limitedForSharing({status: 'limited', statusReason: maxIpsReason(3, 2)}), true)
  assert.equal(limitedForSharing({status: 'limited', statusReason: 'monthly allowance used: 5 of 4 bytes'}), false)
  assert.equal(limitedForSharing({status: 'active', statusReason: maxIpsReason(3, 2)}), false)
})
