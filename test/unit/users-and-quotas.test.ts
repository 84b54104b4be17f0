import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {after, before, describe, it} from 'node:test'

import * as migration0009 from '../../migrations/0009-per-user-baselines.js'
import {recordPull} from '../../src/lib/accounting/ledger.js'
import {findNode, insertNode, readBaseline} from '../../src/lib/db/nodes-repository.js'
import {insertUser} from '../../src/lib/db/users-repository.js'
import type {Db} from '../../src/lib/db/open-database.js'
import {addPlan, listPlans, removePlan, setPlan} from '../../src/lib/plans/plan-service.js'
import {setQuota, topUp} from '../../src/lib/quotas/quota-service.js'
import {getSettings, setSetting} from '../../src/lib/settings/settings.js'
import {addUser, listUsers, removeUser, setUserStatus, showUser} from '../../src/lib/users/user-service.js'
import {SbqError} from '../../src/lib/errors.js'
import {rejectsWith} from '../support/assertions.js'
import {contextAt, memoryDb} from '../support/memory-db.js'
import {freshPostgresDatabase, testDialect} from '../support/test-database.js'
import {insertV2rayNode} from '../support/test-nodes.js'

const GiB = 1024 ** 3
const may10 = contextAt('2024-05-10T12:00:00Z')

/** An empty in-memory database, and a migrator for it that stops after the named migration. */
async function partlyMigratable() {
  const {Kysely, Migrator, SqliteDialect} = await import('kysely')
  const {default: BetterSqlite3} = await import('better-sqlite3')
  const {migrations} = await import('../../migrations/index.js')
  const db = new Kysely<any>({dialect: new SqliteDialect({database: new BetterSqlite3(':memory:')})})
  const upTo = (last: string) =>
    new Migrator({
      db,
      provider: {
        getMigrations: async () => Object.fromEntries(Object.entries(migrations).filter(([name]) => name <= last)),
      },
    })
  return {db, upTo}
}

describe('migrations', () => {
  it('build every table from an empty database', async () => {
    const db = await memoryDb()
    const tables = (await db.introspection.getTables()).map((table) => table.name).sort()
    for (const name of ['events', 'plans', 'settings', 'topups', 'user_usage', 'users'])
      assert.ok(tables.includes(name), name)
    await db.destroy()
  })

  it('land whole or not at all: a failing migration undoes the ones before it in the same run', async () => {
    const {Kysely, Migrator, PostgresDialect, sql} = await import('kysely')
    const {default: BetterSqlite3} = await import('better-sqlite3')
    const {default: pg} = await import('pg')
    const {immediateSqliteDialect: sqliteDialect} = await import('../../src/lib/db/sqlite/open-sqlite.js')
    // sbq's own SQLite dialect (whose adapter is told SQLite changes schemas in transactions), or PostgreSQL's.
    const db = new Kysely<any>({
      dialect:
        testDialect === 'postgres'
          ? new PostgresDialect({pool: new pg.Pool({connectionString: freshPostgresDatabase(), max: 1})})
          : sqliteDialect(new BetterSqlite3(':memory:')),
    })
    const migrations = {
      '0001-a': {
        up: async (trx: typeof db) =>
          void (await trx.schema.createTable('kept_a').addColumn('id', 'integer').execute()),
      },
      '0002-b': {
        up: async (trx: typeof db) => {
          await trx.schema.createTable('half_b').addColumn('id', 'integer').execute()
          await sql`select no_such_function()`.execute(trx)
        },
      },
    }
    const {error} = await new Migrator({db, provider: {getMigrations: async () => migrations}}).migrateToLatest()
    assert.ok(error)
    const tables = (await db.introspection.getTables()).map((table) => table.name)
    assert.deepEqual(
      tables.filter((name) => !name.startsWith('kysely_')),
      [],
    )
    assert.deepEqual(await db.selectFrom('kysely_migration').selectAll().execute(), [])
    await db.destroy()
  })

  it('0007 re-keys the daily ledger day first and keeps every row', async () => {
    const {db, upTo} = await partlyMigratable()
    assert.equal((await upTo('0006-inform').migrateToLatest()).error, undefined)
    const rows = [
      {day: '2024-05-02', node_name: 'n1', user_name: 'bob', up: 1, down: 2},
      {day: '2024-05-01', node_name: 'n2', user_name: 'alice', up: 3, down: 4},
      {day: '2024-05-01', node_name: 'n1', user_name: 'alice', up: 5, down: 6},
    ]
    await db.insertInto('usage_daily').values(rows).execute()
    assert.equal((await upTo('0007-ledger-by-day').migrateToLatest()).error, undefined)
    const after = await db.selectFrom('usage_daily').selectAll().execute()
    // Stored day first: a plain scan returns the rows in key order.
    assert.deepEqual(
      after,
      [rows[2]!, rows[1]!, rows[0]!].map(({day, node_name, user_name, up, down}) => ({
        day,
        user_name,
        node_name,
        up,
        down,
      })),
    )
    assert.deepEqual(await db.selectFrom('usage_closed_through').selectAll().execute(), [])
    await db.destroy()
  })
})

describe('migration 0009', () => {
  const up = (name: string) => `user>>>${name}>>>traffic>>>uplink`
  const down = (name: string) => `user>>>${name}>>>traffic>>>downlink`

  it('turns by-name baselines into per-user ones that read and bill the same, and back', async () => {
    const {db, upTo} = await partlyMigratable()
    assert.equal((await upTo('0008-web-dashboard').migrateToLatest()).error, undefined)
    // Written as that schema's rows: today's services read columns later migrations add.
    await insertUser(
      db,
      {
        name: 'alice',
        status: 'active',
        status_reason: null,
        plan_id: null,
        monthly_quota: null,
        total_quota: null,
        reset_day: null,
        max_ips: null,
        expires_at: null,
        note: null,
        uuid: randomUUID(),
        password: 'p',
        password16: 'p16',
        created_at: may10.now,
        updated_at: may10.now,
      },
      {start: Date.parse('2024-05-01T00:00:00Z'), end: Date.parse('2024-06-01T00:00:00Z')},
    )
    const node = await insertV2rayNode(db, 'n1', 0)
    const other = await insertNode(db, {
      name: 'n2',
      type: 'v2ray',
      api: '127.0.0.1:2',
      config_path: null,
      inbounds: null,
      apply_command: null,
      created_at: 0,
      last_pull_at: null,
      last_error: null,
    })
    const names = [
      up('alice'),
      'inbound>>>api>>>traffic>>>uplink',
      down('alice'),
      up('bob'),
      down('carol'),
      'user>>>>>>traffic>>>uplink',
      'user>>>traffic>>>uplink',
    ]
    const values = [100, 5, 1000, 7, 0, 1, 2]
    const byName = {names, values}
    await db
      .insertInto('node_baselines')
      .values({node_id: node.id, taken_at: may10.now, uptime_seconds: null, counters: JSON.stringify(byName)})
      .execute()
    // The form before parallel arrays: one object keyed by counter name.
    await db
      .insertInto('node_baselines')
      .values({
        node_id: other.id,
        taken_at: may10.now,
        uptime_seconds: null,
        counters: JSON.stringify({[up('dan')]: 3}),
      })
      .execute()

    assert.equal((await upTo('0009-per-user-baselines').migrateToLatest()).error, undefined)
    const stored = async (id = node.id) =>
      JSON.parse(
        (await db.selectFrom('node_baselines').select('counters').where('node_id', '=', id).executeTakeFirstOrThrow())
          .counters,
      )
    const perUser = {
      users: ['alice', 'bob', 'carol'],
      up: [100, 7, null],
      down: [1000, null, 0],
      names: ['inbound>>>api>>>traffic>>>uplink', 'user>>>>>>traffic>>>uplink', 'user>>>traffic>>>uplink'],
      values: [5, 1, 2],
    }
    assert.deepEqual(await stored(), perUser)
    assert.deepEqual(await stored(other.id), {users: ['dan'], up: [3], down: [null], names: [], values: []})
    await migration0009.up(db)
    assert.deepEqual(await stored(), perUser, 'running it again changes nothing')
    const asMap = new Map(names.map((name, index) => [name, values[index]]))
    assert.deepEqual(new Map((await readBaseline(db, node.id))!.counters), asMap)
    // Today's ledger writes columns later migrations add (0016's raw bytes): it bills on today's schema.
    assert.equal((await upTo('9999').migrateToLatest()).error, undefined)
    const record = await recordPull(
      db,
      (await findNode(db, 'n1'))!,
      {counters: names.map((name, index) => ({name, value: values[index]! + 10})), uptimeSeconds: null},
      may10.now + 60_000,
      may10,
    )
    assert.deepEqual(
      [record.restarted, record.up, record.down],
      [false, 20, 20],
      'alice, the unmanaged bob and carol, 10 bytes a counter',
    )

    const {error} = await upTo('9999').migrateTo('0008-web-dashboard')
    assert.equal(error, undefined)
    const back = await stored()
    assert.deepEqual(
      new Map(back.names.map((name: string, index: number) => [name, back.values[index]])),
      new Map(names.map((name, index) => [name, values[index]! + 10])),
    )
    await db.destroy()
  })
})

describe('users', () => {
  let db: Db
  before(async () => {
    db = await memoryDb()
  })
  after(async () => db.destroy())

  it('adds a user with credentials, an active status and a period from the reset day', async () => {
    const user = await addUser(db, {name: 'alice', monthlyQuota: 100 * GiB, reset: {every: 'month', day: 15}}, may10)
    assert.equal(user.status, 'active')
    assert.equal(user.monthlyQuota, 100 * GiB)
    assert.equal(user.totalQuota, 0)
    assert.equal(user.periodStart, '2024-04-15T00:00:00.000Z')
    assert.equal(user.periodEnd, '2024-05-15T00:00:00.000Z')
    assert.equal(user.allowance, 100 * GiB)
    assert.match(user.credentials.uuid, /^[0-9a-f-]{36}$/)
  })

  it('refuses a duplicate with exit 3 and changes nothing', async () => {
    await assert.rejects(addUser(db, {name: 'alice'}, may10), rejectsWith('USER_EXISTS', 3))
    assert.equal((await listUsers(db, {}, may10)).length, 1)
  })

  it('refuses a name that differs only in case, naming the existing one, and finds names only as stored', async () => {
    await assert.rejects(
      addUser(db, {name: 'ALICE'}, may10),
      rejectsWith('USER_NAME_CLASH', 3, /^user "ALICE" clashes with the existing user "alice"/),
    )
    assert.equal((await listUsers(db, {}, may10)).length, 1)
    await assert.rejects(
      showUser(db, 'Alice', {secrets: false}, may10),
      (error: unknown) =>
        error instanceof SbqError &&
        error.code === 'USER_NOT_FOUND' &&
        error.hint === 'names are exact: did you mean "alice"? sbq user show alice',
    )
  })

  it('refuses an unknown plan without creating the user', async () => {
    await assert.rejects(addUser(db, {name: 'carol', plan: 'gold'}, may10), rejectsWith('PLAN_NOT_FOUND', 3))
    await assert.rejects(showUser(db, 'carol', {secrets: false}, may10), rejectsWith('USER_NOT_FOUND', 3))
  })

  it('records every status change as an event, and no-ops do not', async () => {
    const disabled = await setUserStatus(db, 'alice', 'disabled', 'did not pay', may10)
    assert.deepEqual(disabled, {name: 'alice', from: 'active', to: 'disabled', changed: true})
    assert.equal((await setUserStatus(db, 'alice', 'disabled', null, may10)).changed, false)
    await setUserStatus(db, 'alice', 'active', null, may10)
    const detail = await showUser(db, 'alice', {secrets: true}, may10)
    assert.deepEqual(
      detail.events.map((event) => [event.kind, event.from, event.to]),
      [
        ['status', 'disabled', 'active'],
        ['status', 'active', 'disabled'],
        ['created', null, 'active'],
      ],
    )
    assert.ok(detail.credentials)
    assert.equal((await showUser(db, 'alice', {secrets: false}, may10)).credentials, undefined)
  })

  it('filters by status and refuses an unknown one', async () => {
    await addUser(db, {name: 'bob'}, may10)
    await setUserStatus(db, 'bob', 'disabled', null, may10)
    assert.deepEqual(
      (await listUsers(db, {status: 'disabled'}, may10)).map((user) => user.name),
      ['bob'],
    )
    await assert.rejects(listUsers(db, {status: 'sleeping'}, may10), rejectsWith('INVALID_STATUS', 2))
  })

  it('removes a user but keeps their history', async () => {
    await removeUser(db, 'bob', may10)
    await assert.rejects(removeUser(db, 'bob', may10), rejectsWith('USER_NOT_FOUND', 3))
    const events = await db.selectFrom('events').select('kind').where('user_name', '=', 'bob').execute()
    assert.deepEqual(events.map((event) => event.kind).sort(), ['created', 'removed', 'status'])
  })
})

describe('quotas, top-ups and plans', () => {
  let db: Db
  before(async () => {
    db = await memoryDb()
    await addPlan(db, 'basic', {monthlyQuota: 10 * GiB, reset: {every: 'month', day: 5}, maxIps: 2}, may10)
  })
  after(async () => db.destroy())

  it('a user on a plan takes its limits, and follows changes to the plan', async () => {
    const user = await addUser(db, {name: 'dora', plan: 'basic'}, may10)
    assert.deepEqual([user.plan, user.monthlyQuota, user.resetDay, user.maxIps], ['basic', 10 * GiB, 5, 2])
    await setPlan(db, 'basic', {monthlyQuota: 20 * GiB}, may10)
    assert.equal((await listUsers(db, {}, may10))[0]!.monthlyQuota, 20 * GiB)
  })

  it('own limits override the plan; joining a plan again clears them', async () => {
    assert.equal((await setQuota(db, 'dora', {monthlyQuota: 50 * GiB}, may10)).monthlyQuota, 50 * GiB)
    await setPlan(db, 'basic', {monthlyQuota: 30 * GiB}, may10)
    assert.equal((await listUsers(db, {}, may10))[0]!.monthlyQuota, 50 * GiB)
    assert.equal((await setQuota(db, 'dora', {plan: 'basic'}, may10)).monthlyQuota, 30 * GiB)
    const off = await setQuota(db, 'dora', {plan: null}, may10)
    assert.deepEqual([off.plan, off.monthlyQuota, off.resetDay], [null, 0, 1])
  })

  it("top-ups raise this period's allowance only", async () => {
    await setQuota(db, 'dora', {monthlyQuota: 10 * GiB, reset: {every: 'month', day: 1}}, may10)
    const topped = await topUp(db, 'dora', 5 * GiB, 'paid', may10)
    assert.equal(topped.allowance, 15 * GiB)
    assert.equal(topped.topups, 5 * GiB)
    const june = await listUsers(db, {}, contextAt('2024-06-02T00:00:00Z'))
    assert.equal(june[0]!.allowance, 10 * GiB)
    const detail = await showUser(db, 'dora', {secrets: false}, may10)
    assert.deepEqual(
      detail.topupHistory.map((topup) => [topup.bytes, topup.note]),
      [[5 * GiB, 'paid']],
    )
  })

  it('moving the reset day keeps what the running period counted and bought; the next reset falls on the new day', async () => {
    await addUser(db, {name: 'eve', monthlyQuota: 10 * GiB, reset: {every: 'month', day: 1}}, may10)
    await topUp(db, 'eve', 2 * GiB, null, may10)
    const moved = await setQuota(db, 'eve', {reset: {every: 'month', day: 5}}, contextAt('2024-05-22T00:00:00Z'))
    assert.deepEqual(
      [moved.periodStart, moved.periodEnd, moved.allowance],
      ['2024-05-01T00:00:00.000Z', '2024-06-05T00:00:00.000Z', 12 * GiB],
    )
    const june = (await listUsers(db, {}, contextAt('2024-06-06T00:00:00Z'))).find((user) => user.name === 'eve')!
    assert.deepEqual(
      [june.periodStart, june.periodEnd, june.allowance],
      ['2024-06-05T00:00:00.000Z', '2024-07-05T00:00:00.000Z', 10 * GiB],
    )
    await removeUser(db, 'eve', may10)
  })

  it('a top-up after the period rolled over counts in the new period', async () => {
    const june = contextAt('2024-06-02T00:00:00Z')
    const user = await topUp(db, 'dora', GiB, null, june)
    assert.equal(user.periodStart, '2024-06-01T00:00:00.000Z')
    assert.equal(user.allowance, 11 * GiB)
  })

  it('refuses a change with nothing in it, and a zero top-up', async () => {
    await assert.rejects(setQuota(db, 'dora', {}, may10), rejectsWith('NOTHING_TO_CHANGE', 2))
    await assert.rejects(topUp(db, 'dora', 0, null, may10), rejectsWith('INVALID_SIZE', 2))
  })

  it('will not remove a plan that has users, and lists user counts', async () => {
    await setQuota(db, 'dora', {plan: 'basic'}, may10)
    assert.deepEqual(
      (await listPlans(db)).map((plan) => [plan.name, plan.users]),
      [['basic', 1]],
    )
    await assert.rejects(removePlan(db, 'basic'), rejectsWith('PLAN_IN_USE', 3))
    await setQuota(db, 'dora', {plan: null}, may10)
    await removePlan(db, 'basic')
    assert.deepEqual(await listPlans(db), [])
  })
})

describe('settings', () => {
  it('validates the time zone and restores defaults', async () => {
    const db = await memoryDb()
    assert.equal((await setSetting(db, 'timezone', 'Europe/Berlin')).value, 'Europe/Berlin')
    await assert.rejects(setSetting(db, 'timezone', 'Mars/Olympus'), rejectsWith('INVALID_TIMEZONE', 2))
    await assert.rejects(setSetting(db, 'colour', 'blue'), rejectsWith('UNKNOWN_SETTING', 2))
    const [reset] = [await setSetting(db, 'timezone', 'default')]
    assert.equal(reset.isDefault, true)
    assert.deepEqual(
      (await getSettings(db)).map((s) => s.key),
      [
        'timezone',
        'alert-thresholds',
        'alert-expiry-days',
        'enforce-max-ips',
        'max-ips-cooldown',
        'validate-config',
        'inform-body-limit',
        'subscription-url',
        'unmanaged-names-limit',
        'drift-threshold',
        'drift-min-bytes',
      ],
    )
    await db.destroy()
  })

  it('takes drift-threshold as a percentage or off, and drift-min-bytes as a size', async () => {
    const db = await memoryDb()
    assert.equal((await setSetting(db, 'drift-threshold', '50%')).value, '50')
    assert.equal((await setSetting(db, 'drift-threshold', '0')).value, 'off')
    assert.equal((await setSetting(db, 'drift-threshold', 'OFF')).value, 'off')
    for (const bad of ['0.5', '101', 'half'])
      await assert.rejects(setSetting(db, 'drift-threshold', bad), rejectsWith('INVALID_SETTING', 2))
    assert.equal((await setSetting(db, 'drift-min-bytes', '2G')).value, String(2 * 1024 ** 3))
    assert.equal((await setSetting(db, 'drift-min-bytes', '0')).value, '0')
    await assert.rejects(setSetting(db, 'drift-min-bytes', 'lots'), rejectsWith('INVALID_SIZE', 2))
    await db.destroy()
  })
})

describe('import and names that differ only in case', () => {
  it('leaves out a config user that is another spelling of one sbq has, as a name sbq cannot manage', async () => {
    const {importUsers} = await import('../../src/lib/nodes/import-users.js')
    const db = await memoryDb()
    await addUser(db, {name: 'alice'}, may10)
    const result = await importUsers(
      db,
      [
        {
          tag: 'in',
          protocol: 'vless',
          users: [
            {name: 'Alice', credentials: {}},
            {name: 'bob', credentials: {}},
            {name: 'BOB', credentials: {}},
          ],
        },
      ],
      may10,
    )
    assert.deepEqual([result.added, result.skipped], [['bob'], ['Alice', 'BOB']])
    assert.deepEqual(
      (await listUsers(db, {}, may10)).map((user) => user.name),
      ['alice', 'bob'],
    )
    await db.destroy()
  })
})
