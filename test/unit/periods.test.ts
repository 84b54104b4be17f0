import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {currentPeriod, periodAt, periodEndFrom, periodWithNewRule} from '../../src/lib/domain/periods.js'
import type {ResetRule} from '../../src/lib/domain/reset-rules.js'
import {fromLocal, localDay, offsetAt, toLocal} from '../../src/lib/domain/zoned-time.js'

const utc = (text: string) => Date.parse(`${text}Z`)
const iso = (ms: number) => new Date(ms).toISOString()
const monthlyOn = (day: number): ResetRule => ({every: 'month', day})

describe('periodAt', () => {
  it('runs from the reset day to the same day next month', () => {
    const period = periodAt(utc('2024-05-10T12:00:00'), monthlyOn(1), 'UTC')
    assert.equal(iso(period.start), '2024-05-01T00:00:00.000Z')
    assert.equal(iso(period.end), '2024-06-01T00:00:00.000Z')
  })

  it("starts in the previous month before this month's reset day", () => {
    const period = periodAt(utc('2024-05-10T12:00:00'), monthlyOn(15), 'UTC')
    assert.equal(iso(period.start), '2024-04-15T00:00:00.000Z')
    assert.equal(iso(period.end), '2024-05-15T00:00:00.000Z')
  })

  it('includes the boundary instant in the new period', () => {
    const period = periodAt(utc('2024-05-15T00:00:00'), monthlyOn(15), 'UTC')
    assert.equal(iso(period.start), '2024-05-15T00:00:00.000Z')
  })

  it('clamps day 31 to the last day of shorter months', () => {
    assert.equal(iso(periodAt(utc('2024-04-30T05:00:00'), monthlyOn(31), 'UTC').start), '2024-04-30T00:00:00.000Z')
    assert.equal(iso(periodAt(utc('2024-04-29T05:00:00'), monthlyOn(31), 'UTC').start), '2024-03-31T00:00:00.000Z')
    assert.equal(iso(periodAt(utc('2024-04-29T05:00:00'), monthlyOn(31), 'UTC').end), '2024-04-30T00:00:00.000Z')
    assert.equal(iso(periodAt(utc('2024-05-01T00:00:00'), monthlyOn(31), 'UTC').end), '2024-05-31T00:00:00.000Z')
  })

  it('knows leap years: day 30 in February is the 29th in 2024 and the 28th in 2023', () => {
    assert.equal(iso(periodAt(utc('2024-02-29T10:00:00'), monthlyOn(30), 'UTC').start), '2024-02-29T00:00:00.000Z')
    assert.equal(iso(periodAt(utc('2023-02-28T10:00:00'), monthlyOn(30), 'UTC').start), '2023-02-28T00:00:00.000Z')
    assert.equal(iso(periodAt(utc('2023-02-27T10:00:00'), monthlyOn(30), 'UTC').start), '2023-01-30T00:00:00.000Z')
    assert.equal(iso(periodAt(utc('2023-02-27T10:00:00'), monthlyOn(30), 'UTC').end), '2023-02-28T00:00:00.000Z')
  })

  it('crosses the year end', () => {
    const period = periodAt(utc('2024-12-20T00:00:00'), monthlyOn(15), 'UTC')
    assert.equal(iso(period.end), '2025-01-15T00:00:00.000Z')
    assert.equal(iso(periodAt(utc('2025-01-02T00:00:00'), monthlyOn(15), 'UTC').start), '2024-12-15T00:00:00.000Z')
  })

  it('starts at local midnight in the install zone', () => {
    const period = periodAt(utc('2024-05-10T12:00:00'), monthlyOn(1), 'Asia/Shanghai')
    assert.equal(iso(period.start), '2024-04-30T16:00:00.000Z')
    // 2024-04-30T20:00Z is already May 1st in Shanghai.
    assert.equal(
      iso(periodAt(utc('2024-04-30T20:00:00'), monthlyOn(1), 'Asia/Shanghai').start),
      '2024-04-30T16:00:00.000Z',
    )
    assert.equal(
      iso(periodAt(utc('2024-04-30T15:59:59'), monthlyOn(1), 'Asia/Shanghai').start),
      '2024-03-31T16:00:00.000Z',
    )
  })

  it('keeps local midnight across a DST change (Europe/Berlin, March and October)', () => {
    const march = periodAt(utc('2024-03-20T12:00:00'), monthlyOn(1), 'Europe/Berlin')
    assert.equal(iso(march.start), '2024-02-29T23:00:00.000Z') // CET
    assert.equal(iso(march.end), '2024-03-31T22:00:00.000Z') // CEST
    assert.equal(march.end - march.start, (31 * 24 - 1) * 3_600_000)
    const october = periodAt(utc('2024-10-20T12:00:00'), monthlyOn(1), 'Europe/Berlin')
    assert.equal(october.end - october.start, (31 * 24 + 1) * 3_600_000)
  })

  it('starts at the end of the gap when local midnight does not exist (America/Santiago)', () => {
    // Chile skipped 2024-09-08 00:00-01:00 local.
    const period = periodAt(utc('2024-09-10T12:00:00'), monthlyOn(8), 'America/Santiago')
    const start = toLocal(period.start, 'America/Santiago')
    assert.deepEqual([start.month, start.day, start.hour], [9, 8, 1])
  })

  it('takes the earlier instant when a local time happens twice', () => {
    // New York fell back 2024-11-03 02:00 EDT -> 01:00 EST: 01:30 happened at 05:30Z and again at 06:30Z.
    assert.equal(
      iso(fromLocal({year: 2024, month: 11, day: 3, hour: 1, minute: 30}, 'America/New_York')),
      '2024-11-03T05:30:00.000Z',
    )
    // Havana fell back 2024-11-03 01:00 CDT -> 00:00 CST: that midnight happened twice; the period starts at the first.
    assert.equal(
      iso(periodAt(utc('2024-11-10T12:00:00'), monthlyOn(3), 'America/Havana').start),
      '2024-11-03T04:00:00.000Z',
    )
  })
})

describe('periodEndFrom (monthly)', () => {
  it('is strictly after the instant', () => {
    assert.equal(iso(periodEndFrom(utc('2024-05-01T00:00:00'), monthlyOn(1), 'UTC')), '2024-06-01T00:00:00.000Z')
    assert.equal(iso(periodEndFrom(utc('2024-05-01T00:00:01'), monthlyOn(1), 'UTC')), '2024-06-01T00:00:00.000Z')
    assert.equal(iso(periodEndFrom(utc('2024-04-30T23:59:59'), monthlyOn(1), 'UTC')), '2024-05-01T00:00:00.000Z')
  })
})

describe('currentPeriod', () => {
  const may = {start: utc('2024-05-01T00:00:00'), end: utc('2024-06-01T00:00:00')}

  it('keeps the stored period until its end', () => {
    assert.deepEqual(currentPeriod(may, utc('2024-05-31T23:59:59'), monthlyOn(1), 'UTC'), may)
  })

  it('rolls over at the end into the next month', () => {
    const period = currentPeriod(may, utc('2024-06-01T00:00:00'), monthlyOn(1), 'UTC')
    assert.deepEqual([iso(period.start), iso(period.end)], ['2024-06-01T00:00:00.000Z', '2024-07-01T00:00:00.000Z'])
  })

  it('skips whole idle months to the period containing now', () => {
    const period = currentPeriod(may, utc('2024-09-03T00:00:00'), monthlyOn(1), 'UTC')
    assert.equal(iso(period.start), '2024-09-01T00:00:00.000Z')
  })

  it('starts fresh without a stored period, or when the clock went backwards', () => {
    assert.equal(
      iso(currentPeriod(null, utc('2024-05-10T00:00:00'), monthlyOn(1), 'UTC').start),
      '2024-05-01T00:00:00.000Z',
    )
    const july = {start: utc('2024-07-01T00:00:00'), end: utc('2024-08-01T00:00:00')}
    assert.equal(
      iso(currentPeriod(july, utc('2024-05-10T00:00:00'), monthlyOn(1), 'UTC').start),
      '2024-05-01T00:00:00.000Z',
    )
  })
})

describe('periodWithNewRule (monthly)', () => {
  const may = {start: utc('2024-05-01T00:00:00'), end: utc('2024-06-01T00:00:00')}

  it('a later day ends the running period on it, keeping the start', () => {
    const period = periodWithNewRule(may, utc('2024-05-10T00:00:00'), monthlyOn(15), 'UTC')
    assert.deepEqual([iso(period.start), iso(period.end)], ['2024-05-01T00:00:00.000Z', '2024-05-15T00:00:00.000Z'])
    const next = currentPeriod(period, utc('2024-05-16T00:00:00'), monthlyOn(15), 'UTC')
    assert.deepEqual([iso(next.start), iso(next.end)], ['2024-05-15T00:00:00.000Z', '2024-06-15T00:00:00.000Z'])
  })

  it('a day already passed this month runs the period to that day next month: nothing counted or bought is dropped', () => {
    const period = periodWithNewRule(may, utc('2024-05-22T00:00:00'), monthlyOn(15), 'UTC')
    assert.deepEqual([iso(period.start), iso(period.end)], ['2024-05-01T00:00:00.000Z', '2024-06-15T00:00:00.000Z'])
    assert.deepEqual(
      currentPeriod(period, utc('2024-06-01T12:00:00'), monthlyOn(15), 'UTC'),
      period,
      'no reset on the old day',
    )
  })

  it('an earlier day ends the period at its next occurrence', () => {
    const running = {start: utc('2024-05-15T00:00:00'), end: utc('2024-06-15T00:00:00')}
    const period = periodWithNewRule(running, utc('2024-05-20T00:00:00'), monthlyOn(1), 'UTC')
    assert.deepEqual([iso(period.start), iso(period.end)], ['2024-05-15T00:00:00.000Z', '2024-06-01T00:00:00.000Z'])
  })
})

describe('zoned time', () => {
  it('computes offsets east positive', () => {
    assert.equal(offsetAt(utc('2024-01-15T00:00:00'), 'Europe/Berlin'), 3_600_000)
    assert.equal(offsetAt(utc('2024-07-15T00:00:00'), 'Europe/Berlin'), 7_200_000)
    assert.equal(offsetAt(utc('2024-07-15T00:00:00'), 'America/New_York'), -4 * 3_600_000)
    assert.equal(offsetAt(utc('2024-07-15T00:00:00'), 'Asia/Kolkata'), 5.5 * 3_600_000)
  })

  it('names the local day of an instant', () => {
    assert.equal(localDay(utc('2024-05-31T21:30:00'), 'Europe/Berlin'), '2024-05-31')
    assert.equal(localDay(utc('2024-05-31T22:30:00'), 'Europe/Berlin'), '2024-06-01')
  })

  it('round-trips local times away from transitions', () => {
    for (const zone of ['UTC', 'Europe/Berlin', 'Asia/Shanghai', 'America/Los_Angeles', 'Australia/Lord_Howe']) {
      const instant = fromLocal({year: 2024, month: 8, day: 17, hour: 13, minute: 45, second: 10}, zone)
      const back = toLocal(instant, zone)
      assert.deepEqual(back, {year: 2024, month: 8, day: 17, hour: 13, minute: 45, second: 10}, zone)
    }
  })

  it('agrees with Intl at random instants, across transitions, in zones with odd offsets', () => {
    const zones = [
      'Europe/Berlin',
      'America/Santiago',
      'Asia/Kathmandu',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'America/St_Johns',
      'Asia/Tehran',
    ]
    let seed = 42
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
    for (const zone of zones) {
      const formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      })
      for (let index = 0; index < 400; index++) {
        const instant = Date.parse('2020-01-01T00:00:00Z') + Math.floor(random() * 8 * 365 * 86_400_000)
        const parts = Object.fromEntries(
          formatter
            .formatToParts(new Date(instant))
            .filter((part) => part.type !== 'literal')
            .map((part) => [part.type, Number(part.value)]),
        )
        assert.deepEqual(toLocal(instant, zone), parts, `${zone} at ${new Date(instant).toISOString()}`)
      }
    }
  })
})
