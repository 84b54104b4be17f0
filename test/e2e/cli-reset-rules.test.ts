import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {assertJsonError} from '../support/assertions.js'
import {xrayStubNode} from '../support/xray-stub-node.js'

const GiB = 1024 ** 3

describe('reset rules: weekly, daily, yearly, rolling and never periods (real bin/sbq, Xray stub API)', () => {
  // Wednesday 2024-05-15, 12:00 in Berlin (CEST).
  const wednesday = '2024-05-15T10:00:00Z'
  let lab: Awaited<ReturnType<typeof xrayStubNode>>
  const sbqAt = (now: string, ...args: string[]) => lab.sbqAt(now, ...args)
  const sbq = (...args: string[]) => sbqAt(wednesday, ...args)
  const statusAt = (now: string, name: string) => lab.userAt(now, name)

  before(async () => {
    lab = await xrayStubNode('sbq-reset-rules-', {now: wednesday, timeZone: 'Europe/Berlin'})
  })

  after(() => lab.close())

  it('user add --reset gives each rule its own period, at local midnight in the install zone', async () => {
    const cases: Array<[string[], string, string | null, number | null]> = [
      [['wendy', '--reset', 'weekly:mon'], '2024-05-12T22:00:00.000Z', '2024-05-19T22:00:00.000Z', null],
      [['dora', '--reset', 'daily'], '2024-05-14T22:00:00.000Z', '2024-05-15T22:00:00.000Z', null],
      [['rolf', '--reset', 'rolling'], '2024-05-14T22:00:00.000Z', '2024-06-13T22:00:00.000Z', null],
      [['nell', '--reset', 'never'], '2024-05-14T22:00:00.000Z', null, null],
      [['mona', '--reset-day', '20'], '2024-04-19T22:00:00.000Z', '2024-05-19T22:00:00.000Z', 20],
    ]
    for (const [args, start, end, resetDay] of cases) {
      const result = await sbq('user', 'add', ...args, '--monthly', '1', '--json')
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(
        [result.json.periodStart, result.json.periodEnd, result.json.resetDay],
        [start, end, resetDay],
        args.join(' '),
      )
    }
    assert.equal((await statusAt(wednesday, 'rolf')).reset, 'rolling:30d')
    const shown = await sbq('user', 'show', 'nell')
    assert.match(shown.stdout, /period quota\s+1\.0 GiB/)
    assert.match(shown.stdout, /period\s+since 2024-05-15 00:00 \(never resets\)/)
    assert.match(
      (await sbq('user', 'show', 'wendy')).stdout,
      /weekly quota\s+1\.0 GiB[\s\S]*\(resets weekly on Monday\)/,
    )
  })

  it('a plan carries its rule to its users; plan list shows it', async () => {
    assert.equal((await sbq('plan', 'add', 'annual', '--monthly', '50', '--reset', 'yearly:03-01')).code, 0)
    const yara = await sbq('user', 'add', 'yara', '--plan', 'annual', '--json')
    assert.equal(yara.code, 0, yara.stderr)
    assert.deepEqual(
      [yara.json.reset, yara.json.periodStart, yara.json.periodEnd],
      ['yearly:03-01', '2024-02-29T23:00:00.000Z', '2025-02-28T23:00:00.000Z'],
    )
    const plans = await sbq('plan', 'list', '--json')
    assert.deepEqual(
      plans.json.map((plan: {name: string; reset: string; resetDay: number | null}) => [
        plan.name,
        plan.reset,
        plan.resetDay,
      ]),
      [['annual', 'yearly:03-01', null]],
    )
    assert.match((await sbq('plan', 'list')).stdout, /annual.*yearly on 03-01/)
  })

  it('check limits on the period allowance and lets each user back when their own period ends', async () => {
    for (const name of ['wendy', 'dora', 'nell']) lab.stub.addTraffic(name, 0, 1.5 * GiB)
    const limited = await sbq('check', '--json')
    assert.equal(limited.code, 0, limited.stderr)
    for (const name of ['wendy', 'dora', 'nell']) assert.equal((await statusAt(wednesday, name)).status, 'limited')

    // Thursday 00:30 in Berlin: a new day for dora only.
    const thursday = '2024-05-15T22:30:00Z'
    assert.equal((await sbqAt(thursday, 'check')).code, 0)
    assert.deepEqual(
      await Promise.all(['dora', 'wendy', 'nell'].map(async (name) => (await statusAt(thursday, name)).status)),
      ['active', 'limited', 'limited'],
    )

    // Monday 00:30 in Berlin: wendy's new week; a user that never resets stays limited.
    const monday = '2024-05-19T22:30:00Z'
    assert.equal((await sbqAt(monday, 'check')).code, 0)
    const wendy = await statusAt(monday, 'wendy')
    assert.deepEqual([wendy.status, wendy.periodStart, wendy.periodUsed], ['active', '2024-05-19T22:00:00.000Z', 0])
    assert.equal(wendy.totalUsed, 1.5 * GiB, 'the lifetime total keeps every byte')
    const nell = await statusAt(monday, 'nell')
    assert.deepEqual([nell.status, nell.periodEnd, nell.periodUsed], ['limited', null, 1.5 * GiB])
  })

  it('quota set --reset keeps the running period start and what it counted, and ends it where the new rule says', async () => {
    const now = '2024-05-22T10:00:00Z'
    lab.stub.addTraffic('rolf', 100, 200)
    assert.equal((await sbqAt(now, 'stats', 'pull')).code, 0)
    const changed = await sbqAt(now, 'quota', 'set', 'rolf', '--reset', 'monthly:25', '--json')
    assert.equal(changed.code, 0, changed.stderr)
    assert.deepEqual(
      [changed.json.reset, changed.json.periodStart, changed.json.periodEnd, changed.json.periodUsed],
      ['monthly:25', '2024-05-14T22:00:00.000Z', '2024-05-24T22:00:00.000Z', 300],
    )
  })

  it('refuses a bad rule, or two rules at once, in one line, creating nothing', async () => {
    assertJsonError(
      await sbq('user', 'add', 'zed', '--reset', 'fortnightly', '--json'),
      2,
      'INVALID_RESET',
      /^--reset "fortnightly" is not a reset rule$/,
    )
    assertJsonError(
      await sbq('user', 'add', 'zed', '--reset', 'weekly', '--reset-day', '5', '--json'),
      2,
      'INVALID_RESET',
      /--reset-day "5" and --reset "weekly" both say when the period resets/,
    )
    assertJsonError(
      await sbq('plan', 'set', 'annual', '--reset', 'yearly:02-30', '--json'),
      2,
      'INVALID_RESET',
      /"yearly:02-30" is not a reset rule/,
    )
    const human = await sbq('user', 'add', 'zed', '--reset', 'monthly:40')
    assert.equal(human.code, 2)
    assert.match(
      human.stderr,
      /^error: --reset "monthly:40" is not a reset rule \(give monthly\[:DAY 1-31\], .* or never\)\n$/,
    )
    assert.equal((await sbq('user', 'show', 'zed', '--json')).code, 3, 'zed was not created')
    assert.equal((await sbq('plan', 'list', '--json')).json[0].reset, 'yearly:03-01', 'the plan kept its rule')
  })
})
