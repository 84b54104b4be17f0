import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import type {Kysely} from 'kysely'

import {up as migrateUsageMonthly} from '../../migrations/0004-usage-monthly.js'
import {closePastDays} from '../../src/lib/accounting/close-days.js'
import {recordPull, recordUsage} from '../../src/lib/accounting/ledger.js'
import type {Db} from '../../src/lib/db/open-database.js'
import {addDailyUsage, addUnmanagedDailyUsage, writeClosedThrough} from '../../src/lib/db/usage-repository.js'
import {sparkline} from '../../src/lib/output/report-tables.js'
import {addPlan} from '../../src/lib/plans/plan-service.js'
import {topUp} from '../../src/lib/quotas/quota-service.js'
import {parseCsv, toCsv} from '../../src/lib/reports/csv.js'
import {currentMonth, parseDay, parseMonth} from '../../src/lib/domain/month-range.js'
import {pruneUsage} from '../../src/lib/reports/prune.js'
import {reportToCsv} from '../../src/lib/reports/report-csv.js'
import {summaryText} from '../../src/lib/reports/report-summary.js'
import {
  buildReport,
  type NodesReport,
  type UserMonthReport,
  type UsersReport,
} from '../../src/lib/reports/usage-report.js'
import {dailySeries, forecastExhaustion} from '../../src/lib/reports/user-usage-history.js'
import {addUser, removeUser} from '../../src/lib/users/user-service.js'
import {rejectsWith} from '../support/assertions.js'
import {contextAt, memoryDb} from '../support/memory-db.js'
import {insertV2rayNode} from '../support/test-nodes.js'

const GiB = 1024 ** 3

/** Bytes of a node at ratio 1: billed as counted. */
function atRatio1<T extends {up: number; down: number; total: number}>(usage: T) {
  return {...usage, raw: {up: usage.up, down: usage.down, total: usage.total}}
}
const june10 = contextAt('2024-06-10T12:00:00Z')

/** An in-memory database with the rollup tables, whether or not migrations/index.ts lists 0004 yet. */
async function reportDb(): Promise<Db> {
  const db = await memoryDb()
  const tables = (await db.introspection.getTables()).map((table) => table.name)
  if (!tables.includes('usage_monthly')) await migrateUsageMonthly(db as unknown as Kysely<unknown>)
  return db
}

async function usersReport(db: Db, options: Parameters<typeof buildReport>[1], context = june10): Promise<UsersReport> {
  const report = await buildReport(db, options, context)
  assert.equal(report.kind, 'users')
  return report as UsersReport
}

describe('month ranges', () => {
  it('turn YYYY-MM into a day-key range and local midnights', () => {
    const may = parseMonth('2024-05', 'Asia/Shanghai')
    assert.equal(may.month, '2024-05')
    assert.equal(may.firstDay, '2024-05-01')
    assert.equal(may.endDay, '2024-06-01')
    assert.equal(new Date(may.start).toISOString(), '2024-04-30T16:00:00.000Z')
    assert.equal(new Date(may.end).toISOString(), '2024-05-31T16:00:00.000Z')
    const december = parseMonth('2024-12', 'UTC')
    assert.equal(december.endDay, '2025-01-01')
  })

  for (const text of ['2024-13', '2024-00', 'yesterday', '2024-5', '24-05', '2024-05-01', '']) {
    it(`refuse ${JSON.stringify(text)} with exit 2`, () => {
      assert.throws(() => parseMonth(text, 'UTC'), rejectsWith('INVALID_MONTH', 2))
    })
  }

  it('take the current month in the install zone, not UTC', () => {
    // 20:00 UTC on June 30 is already 04:00 on July 1 in Shanghai.
    assert.equal(currentMonth(Date.parse('2024-06-30T20:00:00Z'), 'Asia/Shanghai').month, '2024-07')
    assert.equal(currentMonth(Date.parse('2024-06-30T20:00:00Z'), 'UTC').month, '2024-06')
  })

  it('parse dates and refuse impossible ones', () => {
    assert.deepEqual(parseDay('2024-02-29', 'date'), {year: 2024, month: 2, day: 29})
    assert.throws(() => parseDay('2023-02-29', 'date'), rejectsWith('INVALID_DATE', 2))
    assert.throws(() => parseDay('tomorrow', 'date'), rejectsWith('INVALID_DATE', 2))
  })
})

describe('time-zone boundaries', () => {
  it('traffic pulled at 23:30 local on the 31st belongs to that month', async () => {
    const db = await reportDb()
    const zone = 'Asia/Shanghai'
    const setup = contextAt('2024-05-01T00:00:00Z', zone)
    await addUser(db, {name: 'alice'}, setup)
    const node = await insertV2rayNode(db, 'n1', setup.now)
    const counters = (value: number) => ({
      counters: [{name: 'user>>>alice>>>traffic>>>downlink', value}],
      uptimeSeconds: null,
    })
    await recordPull(db, node, counters(0), setup.now, setup)
    // 15:30 UTC on May 31 is 23:30 in Shanghai; 16:30 UTC is already June 1 there.
    const lateMay = contextAt('2024-05-31T15:30:00Z', zone)
    await recordPull(db, node, counters(1000), lateMay.now, lateMay)
    const earlyJune = contextAt('2024-05-31T16:30:00Z', zone)
    await recordPull(db, node, counters(1500), earlyJune.now, earlyJune)
    const later = contextAt('2024-06-10T00:00:00Z', zone)
    const may = await usersReport(db, {month: '2024-05'}, later)
    const june = await usersReport(db, {month: '2024-06'}, later)
    assert.equal(may.rows[0]!.total, 1000)
    assert.equal(june.rows[0]!.total, 500)
    assert.equal(may.from, '2024-04-30T16:00:00.000Z')
    await db.destroy()
  })
})

describe('CSV', () => {
  it('quotes commas, quotes and line breaks (RFC 4180) and ends lines with CRLF', () => {
    const text = toCsv([
      ['name', 'note'],
      ['a,b', 'say "hi"'],
      ['line\nbreak', 12],
      [null, 'plain'],
    ])
    assert.equal(text, 'name,note\r\n"a,b","say ""hi"""\r\n"line\nbreak",12\r\n,plain\r\n')
    assert.deepEqual(parseCsv(text), [
      ['name', 'note'],
      ['a,b', 'say "hi"'],
      ['line\nbreak', '12'],
      ['', 'plain'],
    ])
  })
})

describe('usage reports', () => {
  let db: Db
  const may10 = contextAt('2024-05-10T12:00:00Z')

  before(async () => {
    db = await reportDb()
    await addUser(db, {name: 'alice', monthlyQuota: 10 * GiB}, may10)
    await addUser(db, {name: 'bob', monthlyQuota: 100 * GiB, reset: {every: 'month', day: 15}}, may10)
    await addUser(db, {name: 'carol'}, may10)
    await addUser(db, {name: 'dave', monthlyQuota: 1 * GiB}, may10)
    await addUser(db, {name: 'gone'}, may10)
    await topUp(db, 'alice', 2 * GiB, null, may10)
    await addDailyUsage(db, [
      {day: '2024-04-30', node_name: 'n1', user_name: 'alice', up: 999, down: 999, raw_up: 999, raw_down: 999},
      {day: '2024-05-01', node_name: 'n1', user_name: 'alice', up: 100, down: 1000, raw_up: 100, raw_down: 1000},
      {day: '2024-05-31', node_name: 'n2', user_name: 'alice', up: 50, down: 500, raw_up: 50, raw_down: 500},
      {day: '2024-05-14', node_name: 'n1', user_name: 'bob', up: 7, down: 70, raw_up: 7, raw_down: 70},
      {day: '2024-05-15', node_name: 'n1', user_name: 'bob', up: 3000, down: 30000, raw_up: 3000, raw_down: 30000},
      {day: '2024-05-20', node_name: 'n2', user_name: 'gone', up: 5, down: 5000, raw_up: 5, raw_down: 5000},
      {day: '2024-06-01', node_name: 'n1', user_name: 'alice', up: 1, down: 1, raw_up: 1, raw_down: 1},
    ])
    await addUnmanagedDailyUsage(db, [{day: '2024-05-02', node_name: 'n1', name: 'mallory', up: 40, down: 400}])
    await removeUser(db, 'gone', may10)
    // The running totals agree with the daily rows, as pulls leave them.
    await db
      .updateTable('user_usage')
      .set({period_up: 150, period_down: 1500})
      .where('user_id', '=', db.selectFrom('users').select('id').where('name', '=', 'alice'))
      .execute()
  })
  after(async () => db.destroy())

  it('lists users busiest first, removed users with traffic, idle users last; totals are the sum of the rows', async () => {
    const report = await usersReport(db, {month: '2024-05'})
    assert.deepEqual(
      report.rows.map((row) => [row.name, row.status, row.up, row.down, row.total]),
      [
        ['bob', 'active', 3007, 30070, 33077],
        ['gone', 'removed', 5, 5000, 5005],
        ['alice', 'active', 150, 1500, 1650],
        ['carol', 'active', 0, 0, 0],
        ['dave', 'active', 0, 0, 0],
      ],
    )
    const sum = (key: 'up' | 'down' | 'total') => report.rows.reduce((total, row) => total + row[key], 0)
    assert.deepEqual(report.totals, atRatio1({up: sum('up'), down: sum('down'), total: sum('total')}))
    assert.deepEqual(report.unmanaged, {up: 40, down: 400, total: 440, names: 1})
    assert.equal(report.users, 5)
  })

  it('matches users with their bytes even where JavaScript and SQLite sort names differently (past U+FFFF)', async () => {
    const odd = await reportDb()
    for (const name of ['a', 'b', 'c']) await addUser(odd, {name}, may10)
    // Names sbq would refuse today, as an old or hand-edited database might hold: SQLite puts U+FFFD before U+1F600,
    // JavaScript's UTF-16 order puts it after.
    await odd.updateTable('users').set({name: '\u{1F600}'}).where('name', '=', 'a').execute()
    await odd.updateTable('users').set({name: '\uFFFD'}).where('name', '=', 'b').execute()
    await addDailyUsage(odd, [
      {day: '2024-05-02', node_name: 'n1', user_name: '\u{1F600}', up: 1, down: 10, raw_up: 1, raw_down: 10},
      {day: '2024-05-02', node_name: 'n1', user_name: 'c', up: 3, down: 30, raw_up: 3, raw_down: 30},
      {day: '2024-05-02', node_name: 'n1', user_name: '\uFFFE', up: 4, down: 40, raw_up: 4, raw_down: 40},
    ])
    const report = await usersReport(odd, {month: '2024-05'})
    assert.deepEqual(
      report.rows.map((row) => [row.name, row.status, row.up, row.down]),
      [
        ['\uFFFE', 'removed', 4, 40],
        ['c', 'active', 3, 30],
        ['\u{1F600}', 'active', 1, 10],
        ['\uFFFD', 'active', 0, 0],
      ],
    )
    await odd.destroy()
  })

  it('gives the percentage of the billing period in force at the end of a past month, with its top-ups', async () => {
    const report = await usersReport(db, {month: '2024-05'})
    const alice = report.rows.find((row) => row.name === 'alice')!
    // alice's running totals still hold May, so that is what her percentage reads; bob's are of an older period,
    // so his period in force at May's end is summed from the daily rows.
    assert.equal(alice.periodStart, '2024-05-01T00:00:00.000Z')
    assert.equal(alice.periodEnd, '2024-06-01T00:00:00.000Z')
    assert.equal(alice.periodUsed, 1650)
    assert.equal(alice.allowance, 12 * GiB)
    assert.equal(alice.percent, Math.round((1650 / (12 * GiB)) * 1000) / 10)
    const bob = report.rows.find((row) => row.name === 'bob')!
    assert.equal(bob.periodStart, '2024-05-15T00:00:00.000Z')
    assert.equal(bob.periodEnd, '2024-06-15T00:00:00.000Z')
    assert.equal(bob.periodUsed, 33000, "May 14 belongs to bob's previous period")
    const gone = report.rows.find((row) => row.name === 'gone')!
    assert.deepEqual([gone.monthlyQuota, gone.allowance, gone.percent, gone.periodStart], [null, null, null, null])
    assert.equal(report.rows.find((row) => row.name === 'carol')!.percent, null, 'unlimited has no percentage')
  })

  it("takes limits from the user's plan unless their own are set, and a past period's top-ups", async () => {
    const planned = await reportDb()
    const april20 = contextAt('2024-04-20T12:00:00Z')
    await addPlan(planned, 'gold', {monthlyQuota: 50 * GiB, reset: {every: 'month', day: 10}}, april20)
    await addUser(planned, {name: 'erin', plan: 'gold'}, april20)
    await addUser(planned, {name: 'fay', plan: 'gold', monthlyQuota: 5 * GiB}, april20)
    await addUser(planned, {name: 'gil', plan: 'gold', reset: {every: 'month', day: 20}}, april20)
    // erin and fay still hold April 10 - May 10, gil April 20 - May 20; at May's end the periods in force are the next
    // ones, summed from history.
    const erin = await planned.selectFrom('users').select('id').where('name', '=', 'erin').executeTakeFirstOrThrow()
    await planned
      .insertInto('topups')
      .values({
        user_id: erin.id,
        period_start: Date.parse('2024-05-10T00:00:00Z'),
        bytes: GiB,
        note: null,
        actor: 'cli',
        created_at: Date.parse('2024-05-11T00:00:00Z'),
      })
      .execute()
    await addDailyUsage(planned, [
      {day: '2024-05-09', node_name: 'n1', user_name: 'erin', up: 1, down: 10, raw_up: 1, raw_down: 10},
      {day: '2024-05-12', node_name: 'n1', user_name: 'erin', up: 200, down: 2000, raw_up: 200, raw_down: 2000},
    ])
    const report = await usersReport(planned, {month: '2024-05'})
    const rows = Object.fromEntries(
      report.rows.map((row) => [
        row.name,
        [row.monthlyQuota, row.allowance, row.periodStart, row.periodEnd, row.periodUsed],
      ]),
    )
    assert.deepEqual(rows, {
      erin: [50 * GiB, 51 * GiB, '2024-05-10T00:00:00.000Z', '2024-06-10T00:00:00.000Z', 2200],
      fay: [5 * GiB, 5 * GiB, '2024-05-10T00:00:00.000Z', '2024-06-10T00:00:00.000Z', 0],
      gil: [50 * GiB, 50 * GiB, '2024-05-20T00:00:00.000Z', '2024-06-20T00:00:00.000Z', 0],
    })
    await planned.destroy()
  })

  it('filters by node without changing the percentage base, and hides idle users with --active', async () => {
    const report = await usersReport(db, {month: '2024-05', node: 'n2', active: true})
    assert.deepEqual(
      report.rows.map((row) => [row.name, row.total]),
      [
        ['gone', 5005],
        ['alice', 550],
      ],
    )
    assert.equal(report.rows[1]!.periodUsed, 1650)
    assert.deepEqual(report.unmanaged, {up: 0, down: 0, total: 0, names: 0})
  })

  it('--top shows the busiest N and keeps the totals over all users', async () => {
    const report = await usersReport(db, {month: '2024-05', top: 1})
    assert.deepEqual(
      report.rows.map((row) => row.name),
      ['bob'],
    )
    assert.equal(report.users, 5)
    assert.equal(report.totals.total, 33077 + 5005 + 1650)
  })

  it('groups by node, unmanaged bytes apart from the totals', async () => {
    const report = (await buildReport(db, {month: '2024-05', byNode: true}, june10)) as NodesReport
    assert.deepEqual(report.rows, [
      atRatio1({name: 'n1', up: 3107, down: 31070, total: 34177, users: 2, unmanaged: 440}),
      atRatio1({name: 'n2', up: 55, down: 5500, total: 5555, users: 2, unmanaged: 0}),
    ])
    assert.deepEqual(report.totals, atRatio1({up: 3162, down: 36570, total: 39732}))
  })

  it("shows one user's days of the month, zeros included, and their current period", async () => {
    const report = (await buildReport(db, {month: '2024-05', user: 'alice'}, june10)) as UserMonthReport
    assert.equal(report.days.length, 31)
    assert.deepEqual(report.days[0], atRatio1({day: '2024-05-01', up: 100, down: 1000, total: 1100}))
    assert.deepEqual(report.days[1], atRatio1({day: '2024-05-02', up: 0, down: 0, total: 0}))
    assert.deepEqual(report.days[30], atRatio1({day: '2024-05-31', up: 50, down: 500, total: 550}))
    assert.deepEqual(report.totals, atRatio1({up: 150, down: 1500, total: 1650}))
    assert.equal(report.currentPeriod!.start, '2024-06-01T00:00:00.000Z')
    const current = (await buildReport(db, {user: 'alice'}, june10)) as UserMonthReport
    assert.equal(current.days.length, 10, 'the current month stops at today')
  })

  it('refuses an unknown user or node with exit 3, a bad month or --top with exit 2', async () => {
    await assert.rejects(buildReport(db, {user: 'nobody'}, june10), rejectsWith('USER_NOT_FOUND', 3))
    await assert.rejects(buildReport(db, {node: 'nowhere'}, june10), rejectsWith('NODE_NOT_FOUND', 3))
    await assert.rejects(buildReport(db, {month: '2024-13'}, june10), rejectsWith('INVALID_MONTH', 2))
    await assert.rejects(buildReport(db, {top: 0}, june10), rejectsWith('INVALID_TOP', 2))
    const removed = (await buildReport(db, {month: '2024-05', user: 'gone'}, june10)) as UserMonthReport
    assert.equal(removed.status, 'removed')
    assert.equal(removed.totals.total, 5005)
    assert.equal(removed.currentPeriod, null)
  })

  it('writes CSV with integer bytes that parses back to the report', async () => {
    const report = await usersReport(db, {month: '2024-05'})
    const [header, ...rows] = parseCsv(reportToCsv(report))
    assert.deepEqual(header!.slice(0, 6), ['kind', 'name', 'status', 'up', 'down', 'total'])
    assert.deepEqual(
      rows.filter((row) => row[0] === 'user').map((row) => [row[1], Number(row[3]), Number(row[4]), Number(row[5])]),
      report.rows.map((row) => [row.name, row.up, row.down, row.total]),
    )
    assert.deepEqual(
      rows
        .find((row) => row[0] === 'total')!
        .slice(3, 6)
        .map(Number),
      [report.totals.up, report.totals.down, report.totals.total],
    )
    assert.deepEqual(
      rows
        .find((row) => row[0] === 'unmanaged')!
        .slice(3, 6)
        .map(Number),
      [40, 400, 440],
    )
  })

  it('summarises the month in a few lines', async () => {
    const text = summaryText(await usersReport(db, {month: '2024-05'}), {top: 2})
    assert.match(text, /^sbq report 2024-05: /)
    assert.match(text, /top: bob 32\.3 KiB, gone 4\.9 KiB$/m)
    assert.match(text, /unmanaged: 440 B by 1 unknown names/)
    assert.ok(text.split('\n').length <= 5)
  })
})

describe('prune', () => {
  const july2 = contextAt('2024-07-02T12:00:00Z')

  async function seeded(): Promise<Db> {
    const db = await reportDb()
    await addUser(
      db,
      {name: 'alice', monthlyQuota: 10 * GiB, reset: {every: 'month', day: 10}},
      contextAt('2024-04-01T00:00:00Z'),
    )
    await addDailyUsage(db, [
      {day: '2024-04-03', node_name: 'n1', user_name: 'alice', up: 1, down: 10, raw_up: 1, raw_down: 10},
      {day: '2024-04-20', node_name: 'n2', user_name: 'alice', up: 2, down: 20, raw_up: 2, raw_down: 20},
      {day: '2024-05-01', node_name: 'n1', user_name: 'alice', up: 4, down: 40, raw_up: 4, raw_down: 40},
      {day: '2024-05-31', node_name: 'n1', user_name: 'ghost', up: 8, down: 80, raw_up: 8, raw_down: 80},
      {day: '2024-06-15', node_name: 'n1', user_name: 'alice', up: 16, down: 160, raw_up: 16, raw_down: 160},
      {day: '2024-07-01', node_name: 'n1', user_name: 'alice', up: 32, down: 320, raw_up: 32, raw_down: 320},
    ])
    await addUnmanagedDailyUsage(db, [{day: '2024-05-05', node_name: 'n2', name: 'mallory', up: 64, down: 640}])
    return db
  }

  async function snapshot(db: Db) {
    const months: unknown[] = []
    for (const month of ['2024-04', '2024-05', '2024-06', '2024-07']) {
      const users = await usersReport(db, {month}, july2)
      const nodes = (await buildReport(db, {month, byNode: true}, july2)) as NodesReport
      const alice = (await buildReport(db, {month, user: 'alice'}, july2)) as UserMonthReport
      months.push({
        month,
        users: users.rows.map((row) => [row.name, row.up, row.down]),
        totals: users.totals,
        unmanaged: users.unmanaged,
        nodes: nodes.rows,
        alice: alice.totals,
      })
    }
    return months
  }

  it('folds whole months before the cut-off and every month reports the same totals', async () => {
    const db = await seeded()
    const beforePrune = await snapshot(db)
    const result = await pruneUsage(db, {before: '2024-06-20'}, july2)
    assert.equal(result.cutoff, '2024-06-01', 'rounded down to a month start')
    assert.deepEqual(result.months, ['2024-04', '2024-05'])
    assert.equal(result.dailyRowsDeleted, 5)
    assert.deepEqual(await snapshot(db), beforePrune)
    const remaining = await db.selectFrom('usage_daily').select('day').orderBy('day').execute()
    assert.deepEqual(
      remaining.map((row) => row.day),
      ['2024-06-15', '2024-07-01'],
    )
    const days = (await buildReport(db, {month: '2024-05', user: 'alice'}, july2)) as UserMonthReport
    assert.deepEqual(days.folded, atRatio1({up: 4, down: 40, total: 44}))
    assert.ok(
      days.days.every((day) => day.total === 0),
      'pruned days are no longer split by day',
    )
    const again = await pruneUsage(db, {before: '2024-06-01'}, july2)
    assert.deepEqual([again.months, again.dailyRowsDeleted], [[], 0])
    await db.destroy()
  })

  it('closing past days into monthly sums changes no report, and a late write to a closed day still counts', async () => {
    const db = await seeded()
    const open = await snapshot(db)
    assert.equal(await closePastDays(db, '2024-07-02'), '2024-07-01')
    assert.deepEqual(await db.selectFrom('usage_closed_through').select('day').execute(), [{day: '2024-07-01'}])
    const may = await db
      .selectFrom('usage_closed_monthly')
      .selectAll()
      .where('month', '=', '2024-05')
      .orderBy('user_name')
      .execute()
    assert.deepEqual(may, [
      {month: '2024-05', user_name: 'alice', node_name: 'n1', up: 4, down: 40, raw_up: 4, raw_down: 40},
      {month: '2024-05', user_name: 'ghost', node_name: 'n1', up: 8, down: 80, raw_up: 8, raw_down: 80},
    ])
    assert.deepEqual(await snapshot(db), open)
    assert.equal(await closePastDays(db, '2024-07-02'), '2024-07-01', 'closing again is a no-op')
    // Another writer that read an older last-closed day must not close those days a second time.
    await assert.rejects(
      writeClosedThrough(db, '2024-06-30', '2024-07-01'),
      /another writer closed days past 2024-06-30/,
    )
    await assert.rejects(writeClosedThrough(db, null, '2024-07-01'), /UNIQUE|PRIMARY/i)
    assert.deepEqual(await snapshot(db), open)
    const ghost = (await buildReport(db, {month: '2024-05', user: 'ghost'}, july2)) as UserMonthReport
    assert.equal(ghost.totals.total, 88, 'a removed name with history only in closed days still reports')

    // The clock went back to May: the write lands in May's daily rows and its closed sums alike.
    const node = await insertV2rayNode(db, 'n1', 0)
    await recordUsage(db, node, new Map([['alice', {up: 1000, down: 10_000}]]), contextAt('2024-05-20T12:00:00Z'))
    const late = await usersReport(db, {month: '2024-05'}, july2)
    assert.equal(late.rows.find((row) => row.name === 'alice')!.total, 44 + 11_000)
    const mayDays = (await buildReport(db, {month: '2024-05', user: 'alice'}, july2)) as UserMonthReport
    assert.equal(mayDays.days.find((day) => day.day === '2024-05-20')!.total, 11_000)
    const closedAgain = await snapshot(db)
    await pruneUsage(db, {before: '2024-06-20'}, july2)
    assert.deepEqual(await snapshot(db), closedAgain, 'prune after closing counts nothing twice')
    assert.deepEqual(
      await db.selectFrom('usage_closed_monthly').select('month').where('month', '<', '2024-06').execute(),
      [],
    )
    await db.destroy()
  })

  it('says a percentage is unknown when pruning cut into the billing period', async () => {
    const db = await seeded()
    await pruneUsage(db, {keepDays: 20}, july2)
    const may = await usersReport(db, {month: '2024-05'}, july2)
    // alice's period at the end of May is May 10 - June 10: its May days now exist only as May's total.
    assert.equal(may.rows.find((row) => row.name === 'alice')!.periodUsed, null)
    await db.destroy()
  })

  it('refuses a cut-off in the current month (exit 2) and needs exactly one of --before / --keep-days', async () => {
    const db = await seeded()
    await assert.rejects(pruneUsage(db, {before: '2024-07-01'}, july2), rejectsWith('PRUNE_TOO_RECENT', 2))
    await assert.rejects(pruneUsage(db, {before: '2024-08-15'}, july2), rejectsWith('PRUNE_TOO_RECENT', 2))
    await assert.rejects(pruneUsage(db, {before: '2024-02-30'}, july2), rejectsWith('INVALID_DATE', 2))
    await assert.rejects(pruneUsage(db, {}, july2), rejectsWith('PRUNE_CUTOFF_MISSING', 2))
    await assert.rejects(
      pruneUsage(db, {before: '2024-05-01', keepDays: 3}, july2),
      rejectsWith('PRUNE_CUTOFF_MISSING', 2),
    )
    assert.equal((await db.selectFrom('usage_daily').select('day').execute()).length, 6)
    await db.destroy()
  })
})

describe('user usage history', () => {
  it('gives the last N local days, zeros included', async () => {
    const db = await reportDb()
    await addDailyUsage(db, [
      {day: '2024-06-08', node_name: 'n1', user_name: 'alice', up: 1, down: 2, raw_up: 1, raw_down: 2},
      {day: '2024-06-08', node_name: 'n2', user_name: 'alice', up: 10, down: 20, raw_up: 10, raw_down: 20},
      {day: '2024-06-10', node_name: 'n1', user_name: 'alice', up: 100, down: 200, raw_up: 100, raw_down: 200},
      {day: '2024-06-11', node_name: 'n1', user_name: 'alice', up: 5, down: 5, raw_up: 5, raw_down: 5},
      {day: '2024-06-07', node_name: 'n1', user_name: 'alice', up: 5, down: 5, raw_up: 5, raw_down: 5},
    ])
    const series = await dailySeries(db, 'alice', 3, june10)
    assert.deepEqual(series, [
      atRatio1({day: '2024-06-08', up: 11, down: 22, total: 33}),
      atRatio1({day: '2024-06-09', up: 0, down: 0, total: 0}),
      atRatio1({day: '2024-06-10', up: 100, down: 200, total: 300}),
    ])
    await db.destroy()
  })

  it('draws a sparkline scaled to the largest value, idle as a space', () => {
    assert.equal(sparkline([0, 1, 4, 8]), ' ▁▄█')
    assert.equal(sparkline([0, 0]), '▁▁')
    assert.equal(sparkline([]), '')
  })

  const now = Date.parse('2024-06-10T00:00:00Z')
  const periodEnd = Date.parse('2024-07-01T00:00:00Z')
  const day = 86_400_000

  it('forecasts exhaustion at the last 7 days pace', () => {
    // 7 GiB a week is 1 GiB a day; 3 GiB left runs out in 3 days.
    assert.equal(
      forecastExhaustion({periodUsed: 7 * GiB, allowance: 10 * GiB, last7DaysBytes: 7 * GiB, periodEnd, now}),
      new Date(now + 3 * day).toISOString(),
    )
  })

  it('says not this period when the pace does not reach the allowance before the period ends', () => {
    assert.equal(
      forecastExhaustion({periodUsed: 1 * GiB, allowance: 100 * GiB, last7DaysBytes: 7 * GiB, periodEnd, now}),
      null,
    )
    assert.equal(
      forecastExhaustion({periodUsed: 1 * GiB, allowance: 10 * GiB, last7DaysBytes: 0, periodEnd, now}),
      null,
    )
    assert.equal(
      forecastExhaustion({periodUsed: 50 * GiB, allowance: 0, last7DaysBytes: 7 * GiB, periodEnd, now}),
      null,
      'unlimited',
    )
  })

  it('says now when the allowance is already used up', () => {
    assert.equal(
      forecastExhaustion({periodUsed: 11 * GiB, allowance: 10 * GiB, last7DaysBytes: 0, periodEnd, now}),
      new Date(now).toISOString(),
    )
  })
})
