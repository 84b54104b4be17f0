import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {assertJsonError} from '../support/assertions.js'
import {xrayStubNode} from '../support/xray-stub-node.js'

describe('expiry from first use: --expires 30d --from first-use (real bin/sbq, Xray stub API)', () => {
  const created = '2024-05-10T12:00:00Z'
  let lab: Awaited<ReturnType<typeof xrayStubNode>>
  const sbqAt = (now: string, ...args: string[]) => lab.sbqAt(now, ...args)
  const sbq = (...args: string[]) => sbqAt(created, ...args)
  const userAt = (now: string, name: string) => lab.userAt(now, name)

  before(async () => {
    lab = await xrayStubNode('sbq-first-use-', {now: created, timeZone: 'UTC'})
  })

  after(() => lab.close())

  it('user add keeps the clock waiting: no expiry yet, the duration and the deadline shown', async () => {
    const trial = await sbq('user', 'add', 'trial', '--expires', '30d', '--from', 'first-use', '--json')
    assert.equal(trial.code, 0, trial.stderr)
    assert.deepEqual([trial.json.expiresAt, trial.json.firstUse], [null, {expiresAfter: '30d', by: null}])
    const idle = await sbq(
      'user',
      'add',
      'idle',
      '--expires',
      '7d',
      '--from',
      'first-use',
      '--first-use-by',
      '14d',
      '--json',
    )
    assert.equal(idle.code, 0, idle.stderr)
    assert.deepEqual(idle.json.firstUse, {expiresAfter: '7d', by: '2024-05-24T12:00:00.000Z'})
    assert.match(
      (await sbq('user', 'show', 'idle')).stdout,
      /expires\s+7d after first use \(starts by 2024-05-24 12:00 if unused\)/,
    )
    const waiting = await sbqAt('2024-05-11T00:00:00Z', 'check', '--json')
    assert.equal(waiting.code, 0, waiting.stderr)
    assert.equal((await userAt('2024-05-11T00:00:00Z', 'trial')).expiresAt, null, 'no traffic, no clock')
  })

  it('the first counted byte starts the clock at that pull; the event says so', async () => {
    lab.stub.addTraffic('trial', 10, 20)
    const firstUse = '2024-05-12T08:00:00Z'
    assert.equal((await sbqAt(firstUse, 'check')).code, 0)
    const trial = await userAt(firstUse, 'trial')
    assert.deepEqual([trial.expiresAt, trial.firstUse, trial.status], ['2024-06-11T08:00:00.000Z', null, 'active'])
    const event = trial.events.find((entry: {kind: string}) => entry.kind === 'first-use')
    assert.match(event.reason, /^first traffic: expires 2024-06-11T08:00:00.000Z \(30d\)$/)
    lab.stub.addTraffic('trial', 10, 20)
    assert.equal((await sbqAt('2024-05-20T00:00:00Z', 'check')).code, 0)
    assert.equal(
      (await userAt('2024-05-20T00:00:00Z', 'trial')).expiresAt,
      '2024-06-11T08:00:00.000Z',
      'later bytes move nothing',
    )
  })

  it('an unused account starts at its deadline, and both expire on time', async () => {
    const pastDeadline = '2024-05-25T00:00:00Z'
    assert.equal((await sbqAt(pastDeadline, 'check')).code, 0)
    const idle = await userAt(pastDeadline, 'idle')
    assert.deepEqual([idle.expiresAt, idle.firstUse, idle.status], ['2024-05-31T12:00:00.000Z', null, 'active'])
    assert.equal((await sbqAt('2024-06-01T00:00:00Z', 'check')).code, 0)
    assert.equal((await userAt('2024-06-01T00:00:00Z', 'idle')).status, 'expired')
    assert.equal((await userAt('2024-06-01T00:00:00Z', 'trial')).status, 'active')
    assert.equal((await sbqAt('2024-06-11T08:00:00Z', 'check')).code, 0)
    assert.equal((await userAt('2024-06-11T08:00:00Z', 'trial')).status, 'expired')
  })

  it('quota set puts a fresh user on a first-use clock, and --expires alone replaces it', async () => {
    assert.equal((await sbq('user', 'add', 'fresh')).code, 0)
    const waiting = await sbq('quota', 'set', 'fresh', '--expires', '1mo', '--from', 'first-use', '--json')
    assert.equal(waiting.code, 0, waiting.stderr)
    assert.deepEqual(waiting.json.firstUse, {expiresAfter: '1mo', by: null})
    const fixed = await sbq('quota', 'set', 'fresh', '--expires', '2024-07-01', '--json')
    assert.deepEqual([fixed.json.expiresAt, fixed.json.firstUse], ['2024-07-01T00:00:00.000Z', null])
  })

  it('refuses what cannot start on first use, in one line, changing nothing', async () => {
    assertJsonError(
      await sbq('user', 'add', 'zed', '--expires', '2025-01-01', '--from', 'first-use', '--json'),
      2,
      'INVALID_EXPIRY',
      /^--from first-use needs --expires as a duration, not "2025-01-01"$/,
    )
    assertJsonError(
      await sbq('user', 'add', 'zed', '--from', 'first-use', '--json'),
      2,
      'INVALID_EXPIRY',
      /needs --expires as a duration, not nothing/,
    )
    assertJsonError(
      await sbq('user', 'add', 'zed', '--expires', '30d', '--first-use-by', '7d', '--json'),
      2,
      'INVALID_EXPIRY',
      /--first-use-by "7d" is a deadline for --from first-use, which was not given/,
    )
    assertJsonError(
      await sbq('user', 'add', 'zed', '--expires', '30d', '--from', 'tomorrow', '--json'),
      2,
      'INVALID_EXPIRY',
      /--from "tomorrow" is not when an expiry starts/,
    )
    assert.equal((await sbq('user', 'show', 'zed', '--json')).code, 3, 'zed was not created')
    const used = await sbqAt(
      '2024-06-20T00:00:00Z',
      'quota',
      'set',
      'trial',
      '--expires',
      '30d',
      '--from',
      'first-use',
      '--json',
    )
    assertJsonError(used, 2, 'INVALID_EXPIRY', /user "trial" has already used traffic/)
    assert.equal((await userAt('2024-06-20T00:00:00Z', 'trial')).expiresAt, '2024-06-11T08:00:00.000Z')
  })
})
