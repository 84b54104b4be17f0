import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import {after, describe, it} from 'node:test'

import {migrations} from '../../migrations/index.js'
import {runSbq, type SbqResult} from '../support/run-sbq.js'
import {dumpDatabase} from '../support/db-dump.js'
import {dropPostgresDatabase, freshPostgresDatabase, psql, testDialect} from '../support/test-database.js'

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

function oneErrorLine(result: SbqResult, exit: number, pattern: RegExp): void {
  assert.equal(result.code, exit, result.stderr)
  const lines = result.stderr.trim().split('\n')
  assert.equal(lines.length, 1, result.stderr)
  assert.match(lines[0]!, pattern)
  assert.doesNotMatch(result.stderr, /\n\s+at /)
}

// What only a server database does. Runs on the PostgreSQL pass of scripts/run-tests.mjs.
describe(
  'PostgreSQL as the database (real server, real bin/sbq)',
  {skip: testDialect === 'postgres' ? false : 'runs on the PostgreSQL pass'},
  () => {
    const databases: string[] = []
    const fresh = () => {
      const url = freshPostgresDatabase()
      databases.push(url)
      return url
    }
    after(() => databases.forEach(dropPostgresDatabase))

    it('several hosts starting at once on an empty database: one migrates, all succeed, nothing twice', async () => {
      const db = fresh()
      const results = await Promise.all(
        Array.from({length: 6}, (_, index) => runSbq(['user', 'add', `u${index}`, '--json'], {db})),
      )
      for (const result of results) assert.equal(result.code, 0, result.stderr)
      assert.equal(psql(db, 'select count(*) from kysely_migration').trim(), String(Object.keys(migrations).length))
      const list = await runSbq(['user', 'list', '--json'], {db})
      assert.deepEqual(list.json.map((user: {name: string}) => user.name).sort(), ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'])
    })

    it('a server that cannot be reached is exit 4 in one line, the password masked', async () => {
      const port = await closedPort()
      const db = `postgres://sbq:hunter2@127.0.0.1:${port}/sbq`
      const plain = await runSbq(['check'], {db})
      oneErrorLine(plain, 4, /^error: database "postgres:\/\/sbq:\*\*\*@127\.0\.0\.1:\d+\/sbq" cannot be reached: /)
      assert.doesNotMatch(plain.stderr + plain.stdout, /hunter2/)
      const json = await runSbq(['user', 'list', '--json'], {db})
      assert.equal(json.code, 4)
      assert.equal(json.json.error.code, 'DATABASE_UNREACHABLE')
      assert.doesNotMatch(json.stdout, /hunter2/)
    })

    it('a database that does not exist is exit 2, saying how to create it', async () => {
      const url = new URL(fresh())
      url.pathname = '/sbq_missing_database'
      const result = await runSbq(['user', 'list'], {db: url.toString()})
      oneErrorLine(result, 2, /database "sbq_missing_database" does not exist \(create it first \(createdb --locale=C/)
    })

    it("refuses another program's database and leaves it as it was", async () => {
      const db = fresh()
      psql(db, 'create table customers (id integer primary key, name text)', "insert into customers values (1, 'x')")
      const before = dumpDatabase(db)
      const result = await runSbq(['user', 'add', 'alice', '--json'], {db})
      assert.equal(result.code, 2)
      assert.equal(result.json.error.code, 'DATABASE_NOT_SBQ')
      assert.match(result.json.error.message, /it has other tables \(customers\)/)
      assert.deepEqual(dumpDatabase(db), before)
    })

    it('refuses a database a newer sbq migrated, changing nothing', async () => {
      const db = fresh()
      assert.equal((await runSbq(['user', 'add', 'alice'], {db})).code, 0)
      psql(db, "insert into kysely_migration (name, timestamp) values ('0099-from-the-future', '2030-01-01')")
      const before = dumpDatabase(db)
      const result = await runSbq(['user', 'list', '--json'], {db})
      assert.equal(result.code, 2)
      assert.equal(result.json.error.code, 'DATABASE_TOO_NEW')
      assert.deepEqual(dumpDatabase(db), before)
    })

    it('backup says PostgreSQL is backed up with its own tools', async () => {
      const db = fresh()
      const result = await runSbq(['backup', '/tmp/sbq-never-written.db'], {db})
      oneErrorLine(
        result,
        2,
        /is a PostgreSQL database, and sbq backup copies an SQLite file \(back it up with pg_dump/,
      )
    })

    it('keeps byte counts exact up to 2^53 and refuses, in one line, a stored count past it', async () => {
      const db = fresh()
      assert.equal((await runSbq(['user', 'add', 'alice'], {db})).code, 0)
      psql(db, `update user_usage set total_down = ${2 ** 53 - 1}`)
      const exact = await runSbq(['user', 'show', 'alice', '--json'], {db})
      assert.equal(exact.json.totalDown, 2 ** 53 - 1)
      psql(db, 'update user_usage set total_down = 9007199254740993')
      for (const args of [
        ['user', 'show', 'alice'],
        ['user', 'list'],
      ]) {
        oneErrorLine(await runSbq(args, {db}), 2, /database value .*900719925474099\d is beyond the exact range/)
      }
    })
  },
)
