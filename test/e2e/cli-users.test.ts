import assert from 'node:assert/strict'
import {statSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {dumpDatabase} from '../support/db-dump.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {assertJsonError} from '../support/assertions.js'
import {sqliteOnly} from '../support/test-database.js'

const GiB = 1024 ** 3
const workspace = tempWorkspace()
const db = workspace.db
const sbq = (...args: string[]) => runSbq(args, {db, env: {SBQ_NOW: '2024-05-10T12:00:00Z'}})

describe('sbq user and quota commands (real bin/sbq)', () => {
  before(async () => {
    const set = await sbq('config', 'set', 'timezone', 'UTC', '--json')
    assert.equal(set.code, 0, set.stderr)
  })
  after(() => workspace.cleanup())

  it('creates the database private on first use', {skip: sqliteOnly}, () => {
    assert.equal(statSync(db).mode & 0o777, 0o600)
    assert.equal(statSync(workspace.dir).mode & 0o077, 0)
  })

  it('user add prints the user and credentials; --json has integer bytes', async () => {
    const result = await sbq('user', 'add', 'alice', '--monthly', '100', '--reset-day', '15', '--json')
    assert.equal(result.code, 0, result.stderr)
    const user = result.json
    assert.equal(user.name, 'alice')
    assert.equal(user.status, 'active')
    assert.equal(user.monthlyQuota, 100 * GiB)
    assert.equal(user.totalQuota, 0)
    assert.equal(user.resetDay, 15)
    assert.equal(user.expiresAt, null)
    assert.equal(user.plan, null)
    assert.match(user.credentials.uuid, /^[0-9a-f-]{36}$/)
    assert.equal(Buffer.from(user.credentials.password, 'base64').length, 32)
    assert.equal(user.periodStart, '2024-04-15T00:00:00.000Z')
  })

  it('user add in human form shows the credentials once', async () => {
    const result = await sbq('user', 'add', 'bob', '--monthly', '512M', '--expires', '30d', '--note', 'team b')
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /monthly quota\s+512 MiB/)
    assert.match(result.stdout, /uuid\s+[0-9a-f-]{36}/)
    assert.match(result.stdout, /expires\s+2024-06-09 12:00/)
  })

  it('user list shows a table, and --json the period fields', async () => {
    const table = await sbq('user', 'list')
    assert.equal(table.code, 0)
    assert.match(table.stdout, /alice.*active.*0 B \/ 100 GiB/)
    // eslint-disable-next-line no-control-regex -- ESC starts every colour code
    assert.doesNotMatch(table.stdout, /\u001b\[/, 'no colour codes when stdout is not a terminal')
    const json = (await sbq('user', 'list', '--json')).json
    assert.deepEqual(
      json.map((user: {name: string}) => user.name),
      ['alice', 'bob'],
    )
    for (const key of ['periodUsed', 'totalUsed', 'periodStart', 'periodEnd']) assert.ok(key in json[0], key)
    assert.equal(json[0].periodEnd, '2024-05-15T00:00:00.000Z')
  })

  it('user disable / enable change status, record events, and filter', async () => {
    const disabled = await sbq('user', 'disable', 'bob', '--reason', 'did not pay', '--json')
    assert.deepEqual(disabled.json, {name: 'bob', from: 'active', to: 'disabled', changed: true, nodes: []})
    assert.deepEqual(
      (await sbq('user', 'list', '--status', 'disabled', '--json')).json.map((u: {name: string}) => u.name),
      ['bob'],
    )
    const enabled = await sbq('user', 'enable', 'bob')
    assert.equal(enabled.code, 0)
    assert.match(enabled.stdout, /user "bob": disabled → active/)
    const shown = (await sbq('user', 'show', 'bob', '--json')).json
    assert.deepEqual(
      shown.events.map((event: {kind: string; to: string}) => `${event.kind}:${event.to}`),
      ['status:active', 'status:disabled', 'created:active'],
    )
    assert.equal(shown.events[1].reason, 'did not pay')
    assert.equal(shown.events[1].actor, 'cli')
  })

  it('user show hides credentials unless --secrets, and shows 30 days of usage and a forecast', async () => {
    const shown = (await sbq('user', 'show', 'alice', '--json')).json
    assert.equal(shown.credentials, undefined)
    assert.equal(shown.last30Days.length, 30)
    assert.deepEqual([shown.last30Days[0].day, shown.last30Days[29].day], ['2024-04-11', '2024-05-10'])
    assert.equal(shown.forecastExhaustedAt, null, 'no traffic yet: not this period')
    const secret = await sbq('user', 'show', 'alice', '--secrets')
    assert.match(secret.stdout, /password\s+\S{44}/)
    assert.match(secret.stdout, /^last 30 days +\S{30} +2024-04-11 → 2024-05-10, peak 0 B\/day$/m)
    assert.match(secret.stdout, /^forecast +not this period/m)
  })

  it('quota set and quota topup change the allowance', async () => {
    const set = await sbq('quota', 'set', 'alice', '--monthly', '200G', '--total', '1T', '--json')
    assert.equal(set.code, 0, set.stderr)
    assert.equal(set.json.monthlyQuota, 200 * GiB)
    assert.equal(set.json.totalQuota, 1024 * GiB)
    const topup = await sbq('quota', 'topup', 'alice', '50', '--note', 'package', '--json')
    assert.equal(topup.json.allowance, 250 * GiB)
    const shown = (await sbq('user', 'show', 'alice', '--json')).json
    assert.deepEqual(
      shown.topupHistory.map((t: {bytes: number; note: string}) => [t.bytes, t.note]),
      [[50 * GiB, 'package']],
    )
  })

  it('plans: add, users follow changes, list, and remove only when empty', async () => {
    assert.equal((await sbq('plan', 'add', 'basic', '--monthly', '10', '--max-ips', '3', '--json')).code, 0)
    const joined = await sbq('quota', 'set', 'bob', '--plan', 'basic', '--json')
    assert.deepEqual([joined.json.plan, joined.json.monthlyQuota, joined.json.maxIps], ['basic', 10 * GiB, 3])
    await sbq('plan', 'set', 'basic', '--monthly', '20')
    assert.equal((await sbq('user', 'show', 'bob', '--json')).json.monthlyQuota, 20 * GiB)
    const plans = (await sbq('plan', 'list', '--json')).json
    assert.deepEqual(
      plans.map((plan: {name: string; users: number}) => [plan.name, plan.users]),
      [['basic', 1]],
    )
    assertJsonError(await sbq('plan', 'remove', 'basic', '--json'), 3, 'PLAN_IN_USE', /plan "basic" still has 1 user/)
  })

  it('config get lists settings, config set validates', async () => {
    const all = (await sbq('config', 'get', '--json')).json
    assert.deepEqual(
      all.map((setting: {key: string; value: string}) => [setting.key, setting.value]),
      [
        ['timezone', 'UTC'],
        ['alert-thresholds', '80,100'],
        ['alert-expiry-days', '3'],
        ['enforce-max-ips', 'off'],
        ['max-ips-cooldown', '30m'],
        ['validate-config', 'on-apply'],
        ['inform-body-limit', String(64 * 1024 * 1024)],
        ['subscription-url', ''],
        ['unmanaged-names-limit', '10000'],
        ['drift-threshold', 'off'],
        ['drift-min-bytes', String(1024 ** 3)],
      ],
    )
    assertJsonError(
      await sbq('config', 'set', 'timezone', 'Mars/Base', '--json'),
      2,
      'INVALID_TIMEZONE',
      /time zone "Mars\/Base" is not known/,
    )
  })

  it('user remove deletes the user and keeps their events', async () => {
    await sbq('quota', 'set', 'bob', '--plan', 'none')
    const removed = await sbq('user', 'remove', 'bob', '--json')
    assert.deepEqual(removed.json, {name: 'bob', removed: true, nodes: []})
    assertJsonError(await sbq('user', 'show', 'bob', '--json'), 3, 'USER_NOT_FOUND', /user "bob" does not exist/)
    assert.ok(
      dumpDatabase(db).events!.some(
        (event) =>
          (event as {user_name: string; kind: string}).user_name === 'bob' &&
          (event as {kind: string}).kind === 'removed',
      ),
    )
  })
})

describe('bad input: one line, a documented exit code, the database unchanged', () => {
  const bad = tempWorkspace()
  const run = (...args: string[]) => runSbq(args, {db: bad.db})
  before(async () => {
    assert.equal((await run('user', 'add', 'alice', '--monthly', '100')).code, 0)
    assert.equal((await run('plan', 'add', 'basic', '--monthly', '10')).code, 0)
  })
  after(() => bad.cleanup())

  const cases: Array<[string, string[], number, string, RegExp]> = [
    [
      'a duplicate user',
      ['user', 'add', 'alice'],
      3,
      'USER_EXISTS',
      /^error: user "alice" already exists \(try: sbq quota set alice --monthly 200\)$/,
    ],
    [
      'a name that differs only in case',
      ['user', 'add', 'ALICE'],
      3,
      'USER_NAME_CLASH',
      /^error: user "ALICE" clashes with the existing user "alice": proxies take names that differ only in case for one user \(pick another name, or change "alice": sbq quota set alice --monthly 200\)$/,
    ],
    [
      'a user named in another case',
      ['user', 'show', 'Alice'],
      3,
      'USER_NOT_FOUND',
      /^error: user "Alice" does not exist \(names are exact: did you mean "alice"\? sbq user show alice\)$/,
    ],
    [
      'a bad name',
      ['user', 'add', 'bad name'],
      2,
      'INVALID_NAME',
      /^error: user name "bad name" is not valid \(use 1-64 characters/,
    ],
    [
      'a dot-only name',
      ['user', 'add', '..'],
      2,
      'INVALID_NAME',
      /^error: user name "\.\." is only dots \(add a letter, digit, "_", "@" or "-" to it\)$/,
    ],
    [
      'a negative size',
      ['user', 'add', 'carol', '--monthly', '-1'],
      2,
      'INVALID_SIZE',
      /^error: --monthly "-1" is negative/,
    ],
    [
      'an unknown unit',
      ['user', 'add', 'carol', '--monthly', '5X'],
      2,
      'INVALID_SIZE',
      /^error: --monthly "5X" is not a size/,
    ],
    [
      'a fractional byte count',
      ['user', 'add', 'carol', '--total', '0.5B'],
      2,
      'INVALID_SIZE',
      /not a whole number of bytes/,
    ],
    ['an overflowing size', ['user', 'add', 'carol', '--monthly', '99999999T'], 2, 'INVALID_SIZE', /is too large/],
    ['NaN', ['quota', 'set', 'alice', '--monthly', 'NaN'], 2, 'INVALID_SIZE', /"NaN" is not a size/],
    [
      'a reset day out of range',
      ['user', 'add', 'carol', '--reset-day', '32'],
      2,
      'INVALID_NUMBER',
      /--reset-day "32" is not a whole number from 1 to 31/,
    ],
    [
      'a bad expiry',
      ['user', 'add', 'carol', '--expires', '2024-02-30'],
      2,
      'INVALID_EXPIRY',
      /expiry "2024-02-30" is not a date or duration/,
    ],
    ['a bad uuid', ['user', 'add', 'carol', '--uuid', 'xyz'], 2, 'INVALID_UUID', /uuid "xyz" is not a UUID/],
    ['an unknown plan', ['user', 'add', 'carol', '--plan', 'gold'], 3, 'PLAN_NOT_FOUND', /plan "gold" does not exist/],
    [
      'an unknown user',
      ['quota', 'set', 'nobody', '--monthly', '1'],
      3,
      'USER_NOT_FOUND',
      /user "nobody" does not exist/,
    ],
    ['an empty change', ['quota', 'set', 'alice'], 2, 'NOTHING_TO_CHANGE', /no change given for user "alice"/],
    ['a zero top-up', ['quota', 'topup', 'alice', '0'], 2, 'INVALID_SIZE', /adds nothing/],
    ['a duplicate plan', ['plan', 'add', 'basic', '--monthly', '5'], 3, 'PLAN_EXISTS', /plan "basic" already exists/],
    ['an unknown setting', ['config', 'set', 'colour', 'red'], 2, 'UNKNOWN_SETTING', /setting "colour" does not exist/],
    ['a missing argument', ['user', 'add'], 2, 'INVALID_USAGE', /missing 1 required arg/i],
    ['an unknown flag', ['user', 'add', 'carol', '--monthy', '5'], 2, 'INVALID_USAGE', /nonexistent flag/i],
    [
      'a bad status filter',
      ['user', 'list', '--status', 'sleepy'],
      2,
      'INVALID_USAGE',
      /expected --status=sleepy to be one of/i,
    ],
  ]

  for (const [what, args, exit, code, pattern] of cases) {
    it(`${what}: exit ${exit}`, async () => {
      const before = dumpDatabase(bad.db)
      const human = await run(...args)
      assert.equal(human.code, exit, human.stderr)
      assert.equal(human.stdout, '')
      assert.equal(human.stderr.trimEnd().split('\n').length, 1, `one line, got: ${human.stderr}`)
      assert.match(human.stderr.trimEnd(), pattern)
      assert.doesNotMatch(human.stderr, /\s+at .+:\d+:\d+/, 'no stack trace')
      const json = await run(...args, '--json')
      assert.equal(json.code, exit)
      assert.equal(json.json.error.code, code)
      assert.deepEqual(dumpDatabase(bad.db), before)
    })
  }

  it('a database path that cannot be used: exit 2, one line', {skip: sqliteOnly}, async () => {
    const result = await runSbq(['user', 'list'], {db: join(bad.dir, 'sbq.db', 'nested.db')})
    assert.equal(result.code, 2)
    assert.match(result.stderr, /^error: database ".*nested\.db" cannot be opened/)
  })
})

describe('sbq itself', () => {
  it('--version and --help work without a database', async () => {
    const missing = join(tempWorkspace().dir, 'never', 'created.db')
    const version = await runSbq(['--version'], {db: missing})
    assert.match(version.stdout, /^sbq\/\d+\.\d+\.\d+/)
    const help = await runSbq(['user', '--help'], {db: missing})
    assert.equal(help.code, 0)
    for (const command of ['user add', 'user list', 'user show', 'user remove', 'user disable', 'user enable'])
      assert.ok(help.stdout.includes(command), command)
    assert.throws(() => statSync(missing))
  })
})
