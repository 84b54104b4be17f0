import assert from 'node:assert/strict'
import {after, before, beforeEach, describe, it} from 'node:test'

import {recordPull} from '../../src/lib/accounting/ledger.js'
import {closePastDays} from '../../src/lib/accounting/close-days.js'
import {recordInform} from '../../src/lib/accounting/record-inform.js'
import {findNode, insertNode} from '../../src/lib/db/nodes-repository.js'
import type {Db} from '../../src/lib/db/open-database.js'
import type {NodeRow} from '../../src/lib/db/schema.js'
import {billedBytes, billedDelta, formatRatio, parseRatio, unitRatio} from '../../src/lib/domain/billing-ratio.js'
import {SbqError} from '../../src/lib/errors.js'
import {setNode} from '../../src/lib/nodes/node-service.js'
import {pruneUsage} from '../../src/lib/reports/prune.js'
import {
  buildReport,
  type NodesReport,
  type UserMonthReport,
  type UsersReport,
} from '../../src/lib/reports/usage-report.js'
import {resetUsage} from '../../src/lib/quotas/reset-usage.js'
import {addUser, showUser} from '../../src/lib/users/user-service.js'
import {rejectsWith} from '../support/assertions.js'
import {contextAt, memoryDb} from '../support/memory-db.js'
import {freshPostgresDatabase, testDialect} from '../support/test-database.js'
import {insertV2rayNode} from '../support/test-nodes.js'

const ratio = (text: string) => parseRatio(text)

describe('billing ratio arithmetic', () => {
  it('reads a ratio exactly as ten-thousandths and writes it back as typed', () => {
    const typed = ['0.5', '2', '1.25', '1', '0.0001', '100', ' 1.50 ', '.5', '0100', '100.0000']
    assert.deepEqual(typed.map(ratio), [
      5000,
      20_000,
      12_500,
      unitRatio,
      1,
      1_000_000,
      15_000,
      5000,
      1_000_000,
      1_000_000,
    ])
    assert.deepEqual([5000, 20_000, 12_500, unitRatio, 1, 1_000_000, 15_000].map(formatRatio), [
      '0.5',
      '2',
      '1.25',
      '1',
      '0.0001',
      '100',
      '1.5',
    ])
  })

  it('refuses a ratio at or below 0, not a number, with too many decimals or absurdly large, naming the value', () => {
    const refusals: Array<[string, string]> = [
      ['0', '--ratio "0" is not above 0'],
      ['0.0000', '--ratio "0.0000" is not above 0'],
      ['-1', '--ratio "-1" is not above 0'],
      ['abc', '--ratio "abc" is not a ratio'],
      ['NaN', '--ratio "NaN" is not a ratio'],
      ['1e3', '--ratio "1e3" is not a ratio'],
      ['', '--ratio "" is not a ratio'],
      ['.', '--ratio "." is not a ratio'],
      ['5.', '--ratio "5." is not a ratio'],
      ['1,5', '--ratio "1,5" is not a ratio'],
      ['0.12345', '--ratio "0.12345" has more than 4 decimals'],
      ['100.0001', '--ratio "100.0001" is above 100'],
      ['1000000000000000000000', '--ratio "1000000000000000000000" is above 100'],
    ]
    for (const [text, message] of refusals) {
      assert.throws(
        () => parseRatio(text),
        (error: unknown) =>
          error instanceof SbqError && error.code === 'INVALID_RATIO' && error.exit === 2 && error.message === message,
        text,
      )
    }
  })

  it('bills floor(raw × ratio) at 0.5, 2, 1.25 and 1', () => {
    const raw = 1_000_003
    assert.deepEqual(
      ['0.5', '2', '1.25', '1'].map((text) => billedDelta(0, raw, ratio(text))),
      [500_001, 2_000_006, 1_250_003, 1_000_003],
    )
  })

  it('sums many small deltas in one row to exactly floor(row × ratio), where rounding each delta would drift', () => {
    for (const text of ['0.5', '2', '1.25', '0.3333', '1']) {
      const scaled = ratio(text)
      let raw = 0
      let billed = 0
      let roundedEach = 0
      for (let pull = 0; pull < 10_000; pull++) {
        const delta = 1 + (pull % 7)
        billed += billedDelta(raw, delta, scaled)
        roundedEach += Math.floor((delta * scaled) / 10_000)
        raw += delta
      }
      assert.equal(BigInt(billed), billedBytes(BigInt(raw), scaled), text)
      if (text === '0.3333') assert.ok(roundedEach < billed, 'billing each delta apart would lose bytes')
    }
  })

  it('stays exact past 2^53, where a float multiply rounds', () => {
    const before = 2 ** 53 - 1
    const scaled = ratio('1.25')
    assert.equal(billedDelta(before, 3, scaled), 4, 'floor((2^53 + 2) × 1.25) − floor((2^53 − 1) × 1.25)')
    // A float would give (2^53 − 1) × 1.25 = 11258999068426238 (rounded); exactly it is 11258999068426238.75.
    assert.equal(billedBytes(BigInt(before), scaled), 11258999068426238n)
    assert.equal(billedBytes(2n ** 60n + 1n, ratio('0.5')), 2n ** 59n)
    // A row's raw bytes stay numbers (a stored value past 2^53 fails its read); their billed products go past 2^53.
    const start = 2 ** 53 - 3001
    let raw = start
    let billed = 0
    for (let pull = 0; pull < 1000; pull++) {
      billed += billedDelta(raw, 3, scaled)
      raw += 3
    }
    assert.equal(raw, 2 ** 53 - 1)
    assert.equal(
      BigInt(billed),
      billedBytes(BigInt(raw), scaled) - billedBytes(BigInt(start), scaled),
      'with billed totals past 2^53 every delta is still exact',
    )
  })

  it('keeps what was billed before a ratio change: later bytes are billed at the new ratio against the same row', () => {
    // 1000 raw bytes at 0.5, then the ratio becomes 2 and 1001 more come.
    const first = billedDelta(0, 1000, ratio('0.5'))
    const second = billedDelta(1000, 1001, ratio('2'))
    assert.deepEqual([first, second], [500, 2002])
  })
})

const up = (name: string) => `user>>>${name}>>>traffic>>>uplink`
const down = (name: string) => `user>>>${name}>>>traffic>>>downlink`
const snapshot = (counters: Record<string, number>) => ({
  counters: Object.entries(counters).map(([name, value]) => ({name, value})),
  uptimeSeconds: null,
})

describe('the ledger at a node ratio', () => {
  let db: Db
  let half: NodeRow
  let plain: NodeRow
  const may10 = contextAt('2024-05-10T12:00:00Z')
  const later = (minutes: number) => ({...may10, now: may10.now + minutes * 60_000})

  beforeEach(async () => {
    db = await memoryDb()
    await addUser(db, {name: 'alice', reset: {every: 'month', day: 1}}, may10)
    half = await insertV2rayNode(db, 'half', may10.now)
    await setNode(db, 'half', {ratio: '0.5'})
    half = (await findNode(db, 'half'))!
    plain = await insertV2rayNode(db, 'plain', may10.now)
  })

  async function pull(node: NodeRow, upBytes: number, downBytes: number, at: ReturnType<typeof later>) {
    return recordPull(
      db,
      (await findNode(db, node.name))!,
      snapshot({[up('alice')]: upBytes, [down('alice')]: downBytes}),
      at.now,
      at,
    )
  }

  async function daily() {
    return db.selectFrom('usage_daily').selectAll().orderBy('day').orderBy('node_name').execute()
  }

  it('bills a pull at the node ratio, keeps the raw bytes beside it, and quotas count the billed ones', async () => {
    await pull(half, 0, 0, may10)
    await pull(plain, 0, 0, may10)
    const record = await pull(half, 1001, 3, later(1))
    await pull(plain, 7, 9, later(1))
    assert.deepEqual([record.up, record.down, record.billedUp, record.billedDown], [1001, 3, 500, 1])
    assert.deepEqual(await daily(), [
      {day: '2024-05-10', node_name: 'half', user_name: 'alice', up: 500, down: 1, raw_up: 1001, raw_down: 3},
      {day: '2024-05-10', node_name: 'plain', user_name: 'alice', up: 7, down: 9, raw_up: 7, raw_down: 9},
    ])
    const alice = await showUser(db, 'alice', {secrets: false}, later(2))
    assert.deepEqual([alice.periodUp, alice.periodDown, alice.totalUsed], [507, 10, 517])
    assert.deepEqual(alice.raw, {
      periodUp: 1008,
      periodDown: 12,
      periodUsed: 1020,
      totalUp: 1008,
      totalDown: 12,
      totalUsed: 1020,
    })
  })

  it('rounds once per row: many small pulls at 0.5 bill exactly half the day, not half of each pull rounded down', async () => {
    await pull(half, 0, 0, may10)
    let counter = 0
    for (let minute = 1; minute <= 40; minute++) {
      counter += 3
      await pull(half, counter, 0, later(minute))
    }
    const [row] = await daily()
    assert.deepEqual([row!.raw_up, row!.up], [120, 60], 'forty pulls of 3 bytes: 60, where 40 × floor(1.5) is 40')
  })

  it('keeps the bytes billed before a ratio change mid-day, and bills the later ones at the new ratio', async () => {
    await pull(half, 0, 0, may10)
    await pull(half, 1000, 0, later(1))
    await setNode(db, 'half', {ratio: '2'})
    await pull(half, 1500, 0, later(2))
    const [row] = await daily()
    assert.deepEqual([row!.raw_up, row!.up], [1500, 500 + 1000])
    const alice = await showUser(db, 'alice', {secrets: false}, later(3))
    assert.deepEqual([alice.periodUp, alice.raw.periodUp], [1500, 1500])
  })

  it('applies the ratio to 3x-ui inform reports too, and leaves the inbound traffic raw', async () => {
    const x = await insertNode(db, {
      name: 'x',
      type: '3x-ui',
      api: '',
      config_path: null,
      inbounds: null,
      apply_command: null,
      created_at: may10.now,
      last_pull_at: null,
      last_error: null,
      ratio_ten_thousandths: ratio('1.25'),
    })
    const payload = {
      clients: new Map([['alice', {up: 401, down: 1003}]]),
      inbounds: new Map([['in-1', {up: 500, down: 1500}]]),
    }
    await recordInform(db, x, payload, null, may10)
    await recordInform(db, x, payload, null, later(1))
    assert.deepEqual(await daily(), [
      {day: '2024-05-10', node_name: 'x', user_name: 'alice', up: 1002, down: 2507, raw_up: 802, raw_down: 2006},
    ])
    const inbound = await db.selectFrom('inbound_usage_daily').select(['up', 'down']).execute()
    assert.deepEqual(inbound, [{up: 1000, down: 3000}])
  })

  it('reports billed and raw per user, per node and per day, through closed days and prune alike', async () => {
    await pull(half, 0, 0, may10)
    await pull(plain, 0, 0, may10)
    await pull(half, 3001, 1001, later(1))
    await pull(plain, 10, 20, later(1))
    const expectMay = async (at: typeof may10) => {
      const users = (await buildReport(db, {month: '2024-05'}, at)) as UsersReport
      assert.deepEqual(
        users.rows.map((row) => [row.name, row.up, row.down, row.raw.up, row.raw.down]),
        [['alice', 1510, 520, 3011, 1021]],
      )
      assert.deepEqual(users.totals, {up: 1510, down: 520, total: 2030, raw: {up: 3011, down: 1021, total: 4032}})
      const nodes = (await buildReport(db, {month: '2024-05', byNode: true}, at)) as NodesReport
      assert.deepEqual(
        nodes.rows.map((row) => [row.name, row.total, row.raw.total]),
        [
          ['half', 2000, 4002],
          ['plain', 30, 30],
        ],
      )
      const days = (await buildReport(db, {month: '2024-05', user: 'alice'}, at)) as UserMonthReport
      assert.deepEqual(days.totals, users.totals)
    }
    await expectMay(later(2))
    // The first write of a later day closes May into the monthly sums, which month reports then read.
    const june2 = contextAt('2024-06-02T12:00:00Z')
    assert.equal(await closePastDays(db, '2024-06-02'), '2024-06-01')
    await expectMay(june2)
    const july2 = contextAt('2024-07-02T12:00:00Z')
    await pruneUsage(db, {before: '2024-06-01'}, july2)
    assert.equal((await db.selectFrom('usage_daily').selectAll().where('day', '<', '2024-06-01').execute()).length, 0)
    const folded = (await buildReport(db, {month: '2024-05', user: 'alice'}, july2)) as UserMonthReport
    assert.deepEqual(folded.folded, {up: 1510, down: 520, total: 2030, raw: {up: 3011, down: 1021, total: 4032}})
  })

  it('a reset zeroes the raw period count with the billed one, and keeps both lifetimes', async () => {
    await pull(half, 0, 0, may10)
    await pull(half, 100, 0, later(1))
    await resetUsage(db, {name: 'alice'}, later(2))
    const alice = await showUser(db, 'alice', {secrets: false}, later(3))
    assert.deepEqual([alice.periodUsed, alice.raw.periodUsed, alice.totalUsed, alice.raw.totalUsed], [0, 0, 50, 100])
  })
})

describe('node ratio settings', () => {
  let db: Db
  const may10 = contextAt('2024-05-10T12:00:00Z')
  before(async () => {
    db = await memoryDb()
    await insertV2rayNode(db, 'n1', may10.now)
  })
  after(async () => db.destroy())

  it('defaults to 1, is changed by node set, and a refused ratio changes nothing', async () => {
    assert.equal((await findNode(db, 'n1'))!.ratio_ten_thousandths, unitRatio)
    assert.equal((await setNode(db, 'n1', {ratio: '0.5'})).ratio, '0.5')
    await assert.rejects(
      setNode(db, 'n1', {ratio: '0.12345', publicHost: 'vpn.example.com'}),
      rejectsWith('INVALID_RATIO', 2),
    )
    const node = (await findNode(db, 'n1'))!
    assert.deepEqual([node.ratio_ten_thousandths, node.public_host], [5000, null])
  })
})

/** A database migrated up to `last` (on this pass's dialect), to write history as that schema held it. */
async function partlyMigrated(last: string) {
  const {Kysely, Migrator, SqliteDialect, sql} = await import('kysely')
  const {SbqPostgresDialect} = await import('../../src/lib/db/postgres/open-postgres.js')
  const {default: BetterSqlite3} = await import('better-sqlite3')
  const {default: pg} = await import('pg')
  const {migrations} = await import('../../migrations/index.js')
  const db = new Kysely<any>({
    dialect:
      testDialect === 'postgres'
        ? new SbqPostgresDialect({pool: new pg.Pool({connectionString: freshPostgresDatabase(), max: 1})})
        : new SqliteDialect({database: new BetterSqlite3(':memory:')}),
  })
  const upTo = (name: string) =>
    new Migrator({
      db,
      provider: {
        getMigrations: async () => Object.fromEntries(Object.entries(migrations).filter(([key]) => key <= name)),
      },
    })
  // What openPostgresDatabase makes before migrating, for 0010's index (see open-postgres.ts).
  if (testDialect === 'postgres')
    await sql`create collation if not exists nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`.execute(
      db,
    )
  assert.equal((await upTo(last).migrateToLatest()).error, undefined)
  return {db, upTo}
}

describe('migration 0016', () => {
  it('builds from an empty database: nodes at ratio 1, the ledger with raw columns', async () => {
    const {db} = await partlyMigrated('9999')
    const columns = async (table: string) =>
      (await db.introspection.getTables()).find((found) => found.name === table)!.columns.map((column) => column.name)
    for (const table of ['usage_daily', 'usage_monthly', 'usage_closed_monthly'])
      assert.ok((await columns(table)).includes('raw_up') && (await columns(table)).includes('raw_down'), table)
    assert.ok((await columns('user_usage')).includes('raw_total_down'))
    assert.ok((await columns('nodes')).includes('ratio_ten_thousandths'))
    await db.destroy()
  })

  it('gives a database with history raw bytes equal to its billed bytes, and every node ratio 1', async () => {
    const {db, upTo} = await partlyMigrated('0014-inbound-choice')
    const big = 2 ** 53 - 1
    await db
      .insertInto('users')
      .values({
        name: 'alice',
        status: 'active',
        uuid: 'u',
        password: 'p',
        password16: 'p16',
        created_at: 0,
        updated_at: 0,
      })
      .execute()
    const {id} = await db.selectFrom('users').select('id').executeTakeFirstOrThrow()
    await db
      .insertInto('user_usage')
      .values({
        user_id: id,
        period_start: 0,
        period_end: 1,
        period_up: 5,
        period_down: 6,
        total_up: 7,
        total_down: big,
        updated_at: 0,
      })
      .execute()
    await db.insertInto('nodes').values({name: 'n1', type: 'v2ray', api: '127.0.0.1:1', created_at: 0}).execute()
    await db
      .insertInto('usage_daily')
      .values({day: '2024-05-01', node_name: 'n1', user_name: 'alice', up: 1, down: big})
      .execute()
    await db
      .insertInto('usage_monthly')
      .values({month: '2024-04', node_name: 'n1', user_name: 'alice', up: 2, down: 3})
      .execute()
    await db
      .insertInto('usage_closed_monthly')
      .values({month: '2024-05', node_name: 'n1', user_name: 'alice', up: 4, down: 5})
      .execute()
    assert.equal((await upTo('0016-node-ratio').migrateToLatest()).error, undefined)
    const numbers = (row: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(row).map(([key, value]) => [
          key,
          typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value,
        ]),
      )
    const read = async (table: string, columns: string[]) =>
      numbers(await db.selectFrom(table).select(columns).executeTakeFirstOrThrow())
    assert.deepEqual(await read('usage_daily', ['up', 'down', 'raw_up', 'raw_down']), {
      up: 1,
      down: big,
      raw_up: 1,
      raw_down: big,
    })
    assert.deepEqual(await read('usage_monthly', ['up', 'down', 'raw_up', 'raw_down']), {
      up: 2,
      down: 3,
      raw_up: 2,
      raw_down: 3,
    })
    assert.deepEqual(await read('usage_closed_monthly', ['up', 'down', 'raw_up', 'raw_down']), {
      up: 4,
      down: 5,
      raw_up: 4,
      raw_down: 5,
    })
    assert.deepEqual(await read('user_usage', ['raw_period_up', 'raw_period_down', 'raw_total_up', 'raw_total_down']), {
      raw_period_up: 5,
      raw_period_down: 6,
      raw_total_up: 7,
      raw_total_down: big,
    })
    assert.deepEqual(await read('nodes', ['ratio_ten_thousandths']), {ratio_ten_thousandths: unitRatio})
    const {error} = await upTo('0016-node-ratio').migrateDown()
    assert.equal(error, undefined)
    assert.deepEqual(await read('usage_daily', ['up', 'down']), {up: 1, down: big})
    await db.destroy()
  })
})
