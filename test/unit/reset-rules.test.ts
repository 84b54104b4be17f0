import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {currentPeriod, endsNever, noEnd, periodAt, periodWithNewRule} from '../../src/lib/domain/periods.js'
import {describeResetRule, formatResetRule, parseResetRule, type ResetRule} from '../../src/lib/domain/reset-rules.js'
import {toLocal} from '../../src/lib/domain/zoned-time.js'
import {SbqError} from '../../src/lib/errors.js'

const utc = (text: string) => Date.parse(`${text}Z`)
const iso = (ms: number) => new Date(ms).toISOString()
const hour = 3_600_000
const day = 24 * hour
const span = (period: {start: number; end: number}) => [iso(period.start), iso(period.end)]
/** The local wall time of an instant, as `YYYY-MM-DD HH:MM`. */
const wall = (instant: number, zone: string) => {
  const local = toLocal(instant, zone)
  const two = (value: number) => String(value).padStart(2, '0')
  return `${local.year}-${two(local.month)}-${two(local.day)} ${two(local.hour)}:${two(local.minute)}`
}

const weekly = (weekday: number): ResetRule => ({every: 'week', weekday})
const daily: ResetRule = {every: 'day'}
const yearly = (month: number, dayOfMonth: number): ResetRule => ({every: 'year', month, day: dayOfMonth})
const rolling = (days: number): ResetRule => ({every: 'rolling', days})
const never: ResetRule = {every: 'never'}
const monthly = (dayOfMonth: number): ResetRule => ({every: 'month', day: dayOfMonth})

describe('reset rules as operators type them', () => {
  it('reads every form and prints it back the one stored way', () => {
    const cases: Array<[string, string]> = [
      ['monthly', 'monthly:1'],
      ['monthly:15', 'monthly:15'],
      ['Monthly:31', 'monthly:31'],
      ['weekly', 'weekly:mon'],
      ['weekly:sun', 'weekly:sun'],
      ['weekly:Friday', 'weekly:fri'],
      ['weekly:3', 'weekly:wed'],
      ['daily', 'daily'],
      ['yearly', 'yearly:01-01'],
      ['yearly:3-15', 'yearly:03-15'],
      ['yearly:02-29', 'yearly:02-29'],
      ['rolling', 'rolling:30d'],
      ['rolling:7d', 'rolling:7d'],
      ['rolling:45', 'rolling:45d'],
      ['never', 'never'],
    ]
    for (const [typed, stored] of cases) {
      const rule = parseResetRule(typed)
      assert.equal(formatResetRule(rule), stored, typed)
      assert.deepEqual(parseResetRule(stored), rule, `${stored} reads back as itself`)
    }
  })

  it('refuses what is not a rule, in one line naming the value and the forms', () => {
    for (const text of [
      'monthly:0',
      'monthly:32',
      'weekly:xyz',
      'weekly:8',
      'yearly:02-30',
      'yearly:13-01',
      'yearly:0315',
      'rolling:0d',
      'rolling:400d',
      'never:1',
      'daily:2',
      'fortnightly',
      'monthly:1:2',
      '',
    ]) {
      assert.throws(
        () => parseResetRule(text),
        (error: unknown) =>
          error instanceof SbqError &&
          error.code === 'INVALID_RESET' &&
          error.message === `--reset "${text}" is not a reset rule` &&
          /weekly\[:mon\.\.sun\]/.test(error.hint ?? ''),
        text,
      )
    }
  })

  it('describes each rule in plain words', () => {
    assert.equal(describeResetRule(monthly(15)), 'monthly on day 15')
    assert.equal(describeResetRule(weekly(7)), 'weekly on Sunday')
    assert.equal(describeResetRule(yearly(3, 1)), 'yearly on 03-01')
    assert.equal(describeResetRule(rolling(30)), 'every 30 days')
    assert.equal(describeResetRule(never), 'never')
  })
})

describe('daily periods', () => {
  it('run from local midnight to the next, across a month end and a leap day', () => {
    assert.deepEqual(span(periodAt(utc('2024-02-29T13:00:00'), daily, 'UTC')), [
      '2024-02-29T00:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
    ])
    assert.deepEqual(span(periodAt(utc('2024-12-31T23:59:59'), daily, 'UTC')), [
      '2024-12-31T00:00:00.000Z',
      '2025-01-01T00:00:00.000Z',
    ])
  })

  it('last 23 and 25 hours on the DST days of Europe/Berlin and America/New_York', () => {
    const spring = periodAt(utc('2024-03-31T12:00:00'), daily, 'Europe/Berlin')
    assert.deepEqual(span(spring), ['2024-03-30T23:00:00.000Z', '2024-03-31T22:00:00.000Z'])
    assert.equal(spring.end - spring.start, 23 * hour)
    const autumn = periodAt(utc('2024-11-03T12:00:00'), daily, 'America/New_York')
    assert.deepEqual(span(autumn), ['2024-11-03T04:00:00.000Z', '2024-11-04T05:00:00.000Z'])
    assert.equal(autumn.end - autumn.start, 25 * hour)
  })

  it('start at the end of the gap where midnight does not exist (America/Santiago)', () => {
    const period = periodAt(utc('2024-09-08T12:00:00'), daily, 'America/Santiago')
    assert.equal(wall(period.start, 'America/Santiago'), '2024-09-08 01:00')
    assert.equal(wall(period.end, 'America/Santiago'), '2024-09-09 00:00')
    assert.equal(period.end - period.start, 23 * hour)
  })
})

describe('weekly periods', () => {
  it('start on the weekday at local midnight, the boundary itself in the new week', () => {
    // 2024-05-13 is a Monday.
    assert.deepEqual(span(periodAt(utc('2024-05-15T08:00:00'), weekly(1), 'UTC')), [
      '2024-05-13T00:00:00.000Z',
      '2024-05-20T00:00:00.000Z',
    ])
    assert.equal(iso(periodAt(utc('2024-05-20T00:00:00'), weekly(1), 'UTC').start), '2024-05-20T00:00:00.000Z')
    assert.deepEqual(span(periodAt(utc('2024-05-15T08:00:00'), weekly(7), 'UTC')), [
      '2024-05-12T00:00:00.000Z',
      '2024-05-19T00:00:00.000Z',
    ])
  })

  it('cross month and year ends', () => {
    assert.deepEqual(span(periodAt(utc('2024-03-01T10:00:00'), weekly(3), 'UTC')), [
      '2024-02-28T00:00:00.000Z',
      '2024-03-06T00:00:00.000Z',
    ])
    assert.deepEqual(span(periodAt(utc('2025-01-01T10:00:00'), weekly(1), 'UTC')), [
      '2024-12-30T00:00:00.000Z',
      '2025-01-06T00:00:00.000Z',
    ])
  })

  it('keep local midnight across DST in both zones (7 days less or more an hour)', () => {
    const berlin = periodAt(utc('2024-03-31T12:00:00'), weekly(1), 'Europe/Berlin')
    assert.equal(wall(berlin.start, 'Europe/Berlin'), '2024-03-25 00:00')
    assert.equal(wall(berlin.end, 'Europe/Berlin'), '2024-04-01 00:00')
    assert.equal(berlin.end - berlin.start, 7 * day - hour)
    const newYork = periodAt(utc('2024-11-03T12:00:00'), weekly(1), 'America/New_York')
    assert.equal(wall(newYork.start, 'America/New_York'), '2024-10-28 00:00')
    assert.equal(newYork.end - newYork.start, 7 * day + hour)
  })

  it('skip idle weeks to the one containing now, and roll over at the end', () => {
    const stored = periodAt(utc('2024-05-15T08:00:00'), weekly(1), 'UTC')
    assert.deepEqual(span(currentPeriod(stored, utc('2024-05-20T00:00:00'), weekly(1), 'UTC')), [
      '2024-05-20T00:00:00.000Z',
      '2024-05-27T00:00:00.000Z',
    ])
    assert.deepEqual(span(currentPeriod(stored, utc('2024-07-04T00:00:00'), weekly(1), 'UTC')), [
      '2024-07-01T00:00:00.000Z',
      '2024-07-08T00:00:00.000Z',
    ])
  })
})

describe('yearly periods', () => {
  it('run from the date to the same date next year', () => {
    assert.deepEqual(span(periodAt(utc('2024-05-15T08:00:00'), yearly(1, 1), 'UTC')), [
      '2024-01-01T00:00:00.000Z',
      '2025-01-01T00:00:00.000Z',
    ])
    assert.deepEqual(span(periodAt(utc('2024-02-15T08:00:00'), yearly(3, 15), 'UTC')), [
      '2023-03-15T00:00:00.000Z',
      '2024-03-15T00:00:00.000Z',
    ])
  })

  it('start on February 28 in years without a 29th', () => {
    assert.deepEqual(span(periodAt(utc('2023-06-01T00:00:00'), yearly(2, 29), 'UTC')), [
      '2023-02-28T00:00:00.000Z',
      '2024-02-29T00:00:00.000Z',
    ])
    assert.deepEqual(span(periodAt(utc('2024-06-01T00:00:00'), yearly(2, 29), 'UTC')), [
      '2024-02-29T00:00:00.000Z',
      '2025-02-28T00:00:00.000Z',
    ])
  })

  it('start at local midnight in each zone, whatever the offset that day', () => {
    const newYork = periodAt(utc('2024-07-01T00:00:00'), yearly(1, 1), 'America/New_York')
    assert.deepEqual(span(newYork), ['2024-01-01T05:00:00.000Z', '2025-01-01T05:00:00.000Z'])
    const berlin = periodAt(utc('2024-07-01T00:00:00'), yearly(7, 1), 'Europe/Berlin')
    assert.deepEqual(span(berlin), ['2024-06-30T22:00:00.000Z', '2025-06-30T22:00:00.000Z'])
  })
})

describe('monthly periods in the two zones', () => {
  it('day 31 across a leap February and the March DST change (America/New_York)', () => {
    const february = periodAt(utc('2024-03-10T12:00:00'), monthly(31), 'America/New_York')
    assert.equal(wall(february.start, 'America/New_York'), '2024-02-29 00:00')
    assert.equal(wall(february.end, 'America/New_York'), '2024-03-31 00:00')
    assert.equal(february.end - february.start, 31 * day - hour)
  })

  it('day 30 in a short February, Europe/Berlin', () => {
    const period = periodAt(utc('2023-03-15T12:00:00'), monthly(30), 'Europe/Berlin')
    assert.equal(wall(period.start, 'Europe/Berlin'), '2023-02-28 00:00')
    assert.equal(wall(period.end, 'Europe/Berlin'), '2023-03-30 00:00')
  })
})

describe('rolling periods', () => {
  it('start at local midnight and last 30 local days, across a leap February', () => {
    const period = periodAt(utc('2024-02-15T17:00:00'), rolling(30), 'UTC')
    assert.deepEqual(span(period), ['2024-02-15T00:00:00.000Z', '2024-03-16T00:00:00.000Z'])
  })

  it('are 30 local days, not 720 hours, across DST (both zones)', () => {
    const berlin = periodAt(utc('2024-03-15T12:00:00'), rolling(30), 'Europe/Berlin')
    assert.equal(wall(berlin.end, 'Europe/Berlin'), '2024-04-14 00:00')
    assert.equal(berlin.end - berlin.start, 30 * day - hour)
    const newYork = periodAt(utc('2024-10-20T12:00:00'), rolling(30), 'America/New_York')
    assert.equal(wall(newYork.end, 'America/New_York'), '2024-11-19 00:00')
    assert.equal(newYork.end - newYork.start, 30 * day + hour)
  })

  it('follow each other from the stored period, not from the calendar', () => {
    const stored = {start: utc('2024-01-10T00:00:00'), end: utc('2024-02-09T00:00:00')}
    assert.deepEqual(span(currentPeriod(stored, utc('2024-02-20T00:00:00'), rolling(30), 'UTC')), [
      '2024-02-09T00:00:00.000Z',
      '2024-03-10T00:00:00.000Z',
    ])
  })

  it('count whole periods across idle months, landing on the period containing now', () => {
    const stored = {start: utc('2024-01-10T00:00:00'), end: utc('2024-02-09T00:00:00')}
    // 2024-02-09 + 30 = 03-10, + 30 = 04-09, + 30 = 05-09, + 30 = 06-08.
    const period = currentPeriod(stored, utc('2024-05-20T15:00:00'), rolling(30), 'UTC')
    assert.deepEqual(span(period), ['2024-05-09T00:00:00.000Z', '2024-06-08T00:00:00.000Z'])
    const exactlyOnBoundary = currentPeriod(stored, utc('2024-06-08T00:00:00'), rolling(30), 'UTC')
    assert.equal(iso(exactlyOnBoundary.start), '2024-06-08T00:00:00.000Z')
  })

  it('after a rule change, keep the running start and count 30 days from it', () => {
    const running = {start: utc('2024-05-01T00:00:00'), end: utc('2024-06-01T00:00:00')}
    assert.deepEqual(span(periodWithNewRule(running, utc('2024-05-20T00:00:00'), rolling(30), 'UTC')), [
      '2024-05-01T00:00:00.000Z',
      '2024-05-31T00:00:00.000Z',
    ])
  })
})

describe('never', () => {
  it('is one period from the first day on, which a stored period keeps forever', () => {
    const first = periodAt(utc('2024-05-10T12:00:00'), never, 'Europe/Berlin')
    assert.equal(wall(first.start, 'Europe/Berlin'), '2024-05-10 00:00')
    assert.equal(first.end, noEnd)
    assert.ok(endsNever(first))
    assert.deepEqual(currentPeriod(first, utc('2031-01-01T00:00:00'), never, 'Europe/Berlin'), first)
  })

  it('turns a running period into one that never ends, keeping what it counted', () => {
    const running = {start: utc('2024-05-01T00:00:00'), end: utc('2024-06-01T00:00:00')}
    assert.deepEqual(periodWithNewRule(running, utc('2024-05-20T00:00:00'), never, 'UTC'), {
      start: running.start,
      end: noEnd,
    })
  })
})

describe('weekly from monthly', () => {
  it('keeps the running start and ends at the next weekday', () => {
    const running = {start: utc('2024-05-01T00:00:00'), end: utc('2024-06-01T00:00:00')}
    // 2024-05-15 is a Wednesday: the next Monday is the 20th.
    assert.deepEqual(span(periodWithNewRule(running, utc('2024-05-15T10:00:00'), weekly(1), 'UTC')), [
      '2024-05-01T00:00:00.000Z',
      '2024-05-20T00:00:00.000Z',
    ])
  })
})

describe('every rule tiles time without gaps or overlaps, in both zones, over three years', () => {
  const rules: ResetRule[] = [monthly(1), monthly(31), weekly(1), weekly(7), daily, yearly(2, 29), yearly(10, 27)]
  for (const zone of ['Europe/Berlin', 'America/New_York']) {
    for (const rule of rules) {
      it(`${formatResetRule(rule)} in ${zone}`, () => {
        let period = periodAt(utc('2023-01-01T12:00:00'), rule, zone)
        const until = utc('2026-01-01T00:00:00')
        let periods = 0
        while (period.end < until) {
          const next = currentPeriod(period, period.end, rule, zone)
          assert.equal(next.start, period.end, `contiguous at ${iso(period.end)}`)
          assert.equal(wall(next.start, zone).slice(11), '00:00', `starts at local midnight: ${iso(next.start)}`)
          const middle = Math.floor((next.start + next.end) / 2)
          assert.deepEqual(periodAt(middle, rule, zone), next, `periodAt agrees inside ${iso(next.start)}`)
          assert.deepEqual(periodAt(next.end - 1, rule, zone), next, `the last instant is still in it`)
          period = next
          periods++
        }
        assert.ok(periods >= 3, `${periods} periods walked`)
      })
    }
  }
})
