import assert from 'node:assert/strict'
import {copyFileSync, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import BetterSqlite3 from 'better-sqlite3'

import {tableNames} from '../../src/lib/db/tables.js'
import {dumpDatabase} from '../support/db-dump.js'
import {runSbq, type SbqResult} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'
import {dropPostgresDatabase, freshPostgresDatabase, needsPostgres, testDialect} from '../support/test-database.js'
import {sbqTables} from '../../src/lib/db/tables.js'

const MiB = 1024 ** 2

/** The tables a copy must reproduce row for row: sbq's, but the locks and dashboard logins it leaves behind. */
const copiedTables = tableNames.filter((name) => name !== 'locks' && name !== 'web_sessions')

function sbqRows(location: string): Record<string, unknown[]> {
  const dump = dumpDatabase(location)
  return Object.fromEntries(copiedTables.map((name) => [name, dump[name] ?? []]))
}

/** Every row of every table but SQLite's planner statistics, which closing any sbq connection may refresh. */
function rowsOf(location: string): Record<string, unknown[]> {
  const {sqlite_stat1: _statistics, ...rows} = dumpDatabase(location)
  return rows
}

function assertOneLineError(result: SbqResult, exit: number, pattern: RegExp): void {
  assert.equal(result.code, exit, result.stdout + result.stderr)
  assert.equal(result.stdout, '')
  assert.match(result.stderr, pattern)
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
}

// The test copies between both dialects itself, so it runs once, on the SQLite pass.
describe(
  'sbq db copy (real bin/sbq)',
  {skip: testDialect === 'postgres' ? 'runs both dialects on the SQLite pass' : false},
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'sbq-db-copy-'))
    const source = join(dir, 'source.db')
    const postgresDatabases: string[] = []
    let stub: StubV2rayApi
    let now = '2024-04-20T12:00:00Z'
    const sbq = (db: string, ...args: string[]) => runSbq(args, {db, env: {SBQ_NOW: now}})
    const ok = async (db: string, ...args: string[]) => {
      const result = await sbq(db, ...args)
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`)
      return result
    }
    const pullAt = async (at: string) => {
      now = at
      await ok(source, 'stats', 'pull')
    }

    before(async () => {
      stub = await StubV2rayApi.start({flavor: 'v2ray', users: 3})
      await ok(source, 'config', 'set', 'timezone', 'UTC')
      await ok(source, 'plan', 'add', 'basic', '--monthly', '10')
      for (const name of ['user1', 'user2', 'user3', 'gone']) await ok(source, 'user', 'add', name, '--plan', 'basic')
      await ok(source, 'quota', 'topup', 'user2', '1G', '--note', 'promo')
      await ok(source, 'alert', 'add', 'webhook', 'http://127.0.0.1:1/hook')
      await ok(source, 'node', 'add', 'n1', '--type', 'v2ray', '--api', stub.address)
      // A baseline, then traffic on several days of two months, an unmanaged name, and a user removed with history.
      await pullAt('2024-04-20T12:00:00Z')
      stub.addTraffic('user1', 5 * MiB, 50 * MiB)
      stub.addTraffic('gone', 1 * MiB, 2 * MiB)
      stub.setCounter('user>>>mallory>>>traffic>>>downlink', 4096)
      await pullAt('2024-04-25T12:00:00Z')
      stub.addTraffic('user1', 1 * MiB, 3 * MiB)
      stub.addTraffic('user2', 7 * MiB, 70 * MiB)
      await pullAt('2024-05-03T12:00:00Z')
      stub.addTraffic('user3', 2 * MiB, 9 * MiB)
      stub.addTraffic('user2', 1, 2)
      stub.setCounter('user>>>mallory>>>traffic>>>downlink', 8192)
      await pullAt('2024-05-20T12:00:00Z')
      await ok(source, 'user', 'remove', 'gone', '--no-apply')
      await pullAt('2024-06-10T12:00:00Z')
      await ok(source, 'prune', '--before', '2024-05-01')
      // A dashboard login, which a copy leaves behind.
      const sqlite = new BetterSqlite3(source)
      sqlite
        .prepare(
          'insert into web_sessions (id_hash, csrf_token, created_at, last_seen_at, expires_at) values (?, ?, ?, ?, ?)',
        )
        .run('hash', 'csrf', 1, 1, 9_999_999_999_999)
      sqlite.close()
      const rows = sbqRows(source)
      for (const table of [
        'usage_daily',
        'usage_monthly',
        'usage_closed_monthly',
        'unmanaged_usage_daily',
        'unmanaged_usage_monthly',
        'topups',
      ])
        assert.ok(rows[table]!.length > 0, `the seed has ${table} rows`)
    })

    after(async () => {
      await stub?.close()
      for (const url of postgresDatabases) dropPostgresDatabase(url)
      rmSync(dir, {recursive: true, force: true})
    })

    it('copies file to file: every sbq table row for row, verified, the source unchanged', async () => {
      const before = dumpDatabase(source)
      const target = join(dir, 'copy.db')
      const result = await ok(source, 'db', 'copy', '--to', target, '--json')
      assert.equal(result.json.verified, true)
      assert.equal(result.json.from, source)
      assert.equal(result.json.to, target)
      assert.equal(result.json.users, 3)
      assert.deepEqual(
        result.json.tables.map((table: {name: string}) => table.name),
        copiedTables,
      )
      assert.deepEqual(
        result.json.skipped.map((table: {name: string}) => table.name),
        ['locks', 'web_sessions'],
      )
      assert.deepEqual(sbqRows(target), sbqRows(source))
      assert.deepEqual(dumpDatabase(target).web_sessions, [])
      assert.deepEqual(dumpDatabase(source), before)
    })

    it('the table output says what was copied and verified', async () => {
      const result = await ok(source, 'db', 'copy', '--to', join(dir, 'table.db'))
      assert.match(result.stdout, /^copied .*source\.db to .*table\.db in [\d.]+ s$/m)
      assert.match(result.stdout, /│ usage_daily +│ \d+ +│/)
      const copied = Object.values(sbqTables).filter((spec) => spec.notCopied === undefined).length
      assert.match(
        result.stdout,
        new RegExp(`^verified: the copy has the same rows in each of ${copied} tables, and each of 3 users`, 'm'),
      )
      assert.match(result.stdout, /^not copied: web_sessions: /m)
    })

    it(
      'SQLite → PostgreSQL → SQLite: identical rows and month report; the PostgreSQL copy takes new users',
      {skip: needsPostgres},
      async () => {
        const before = dumpDatabase(source)
        const postgres = freshPostgresDatabase()
        postgresDatabases.push(postgres)
        const withPassword = postgres.replace('postgres://sbq@', 'postgres://sbq:hunter2@')
        const toServer = await ok(source, 'db', 'copy', '--to', withPassword, '--json')
        assert.equal(toServer.json.verified, true)
        assert.match(toServer.json.to, /^postgres:\/\/sbq:\*\*\*@/)
        assert.doesNotMatch(toServer.stdout + toServer.stderr, /hunter2/)
        const back = join(dir, 'back.db')
        const toFile = await ok(postgres, 'db', 'copy', '--to', back, '--json')
        assert.equal(toFile.json.verified, true)

        // Before any other command runs on it: each refreshes SQLite's planner statistics as it closes.
        assert.deepEqual(dumpDatabase(source), before)
        const rows = sbqRows(source)
        assert.deepEqual(sbqRows(postgres), rows)
        assert.deepEqual(sbqRows(back), rows)
        const report = async (db: string) => (await ok(db, 'report', '--month', '2024-05', '--json')).json
        const expected = await report(source)
        assert.ok(expected.rows.length >= 3)
        assert.deepEqual(await report(postgres), expected)
        assert.deepEqual(await report(back), expected)

        // The identity sequences were moved past the copied ids: a new user, plan and top-up get the next ones.
        const maxUserId = Math.max(...(rows.users as Array<{id: number}>).map((user) => user.id))
        await ok(postgres, 'user', 'add', 'newcomer', '--no-apply')
        await ok(postgres, 'plan', 'add', 'extra', '--monthly', '1')
        await ok(postgres, 'quota', 'topup', 'newcomer', '1G', '--no-apply')
        const users = sbqRows(postgres).users as Array<{id: number; name: string}>
        assert.equal(users.find((user) => user.name === 'newcomer')!.id, maxUserId + 1)
      },
    )

    it('refuses a target that has rows, and changes nothing (exit 3)', {skip: needsPostgres}, async () => {
      const postgres = freshPostgresDatabase()
      postgresDatabases.push(postgres)
      await ok(postgres, 'user', 'add', 'someone')
      const target = dumpDatabase(postgres)
      const before = dumpDatabase(source)
      assertOneLineError(
        await sbq(source, 'db', 'copy', '--to', postgres),
        3,
        /^error: database "postgres:.*" is not empty: it has rows in users \(1\), user_usage \(1\), events \(1\) \(sbq db copy writes only into a new database/,
      )
      assert.deepEqual(dumpDatabase(postgres), target)
      assert.deepEqual(dumpDatabase(source), before)
    })

    it('refuses a non-empty file target, the source itself, a missing source and one at an older schema', async () => {
      const full = join(dir, 'full.db')
      copyFileSync(source, full)
      const target = rowsOf(full)
      const refused = await sbq(source, 'db', 'copy', '--to', full, '--json')
      assert.equal(refused.code, 3)
      assert.equal(refused.json.error.code, 'DATABASE_NOT_EMPTY')
      assert.deepEqual(rowsOf(full), target)

      assertOneLineError(
        await sbq(source, 'db', 'copy', '--to', join(dir, '.', 'source.db')),
        2,
        /^error: copy target ".*source\.db" is the database being copied \(give a new database or file as --to\)\n$/,
      )

      const missing = join(dir, 'missing.db')
      assertOneLineError(
        await sbq(missing, 'db', 'copy', '--to', join(dir, 'from-missing.db')),
        3,
        /^error: database ".*missing\.db" does not exist/,
      )
      assert.equal(existsSync(missing), false)
      assert.equal(existsSync(join(dir, 'from-missing.db')), false)

      // An sbq database one migration behind: copying it would mean upgrading it first, which the copy must not do.
      const older = join(dir, 'older.db')
      copyFileSync(source, older)
      const sqlite = new BetterSqlite3(older)
      sqlite.prepare('delete from kysely_migration where name = (select max(name) from kysely_migration)').run()
      sqlite.pragma('user_version = 10')
      sqlite.close()
      const olderRows = dumpDatabase(older)
      assertOneLineError(
        await sbq(older, 'db', 'copy', '--to', join(dir, 'from-older.db')),
        2,
        /^error: database ".*older\.db" is at an older sbq schema \(\d+ of \d+ migrations\) \(run any sbq command on it first/,
      )
      assert.deepEqual(dumpDatabase(older), olderRows)
      assert.equal(existsSync(join(dir, 'from-older.db')), false)
    })
  },
)
