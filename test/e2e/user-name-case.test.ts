import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {after, before, describe, it} from 'node:test'

import {Migrator, sql} from 'kysely'

import {migrations} from '../../migrations/index.js'

import {dumpDatabase} from '../support/db-dump.js'
import {withRawDb} from '../support/raw-database.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {testDialect} from '../support/test-database.js'

/**
 * A database from before names were unique without regard to case: made by today's sbq, then taken back to schema
 * 0009 by the later migrations' own `down` and given a second spelling of alice.
 */
async function backToSchema9WithClash(location: string, copyOf: string, spelling: string): Promise<void> {
  await withRawDb(location, async (db) => {
    const {error} = await new Migrator({db, provider: {getMigrations: async () => migrations}}).migrateTo(
      '0009-per-user-baselines',
    )
    assert.equal(error, undefined)
    // SQLite's sbq reads the schema version from user_version first; PostgreSQL's reads kysely_migration itself.
    if (testDialect === 'sqlite') await sql`PRAGMA user_version = 9`.execute(db)
    const {id, ...user} = await db.selectFrom('users').selectAll().where('name', '=', copyOf).executeTakeFirstOrThrow()
    const inserted = await db
      .insertInto('users')
      .values({...user, name: spelling, uuid: randomUUID()})
      .returning('id')
      .executeTakeFirstOrThrow()
    const usage = await db.selectFrom('user_usage').selectAll().where('user_id', '=', id).executeTakeFirstOrThrow()
    await db
      .insertInto('user_usage')
      .values({...usage, user_id: inserted.id})
      .execute()
  })
}

describe('names that differ only in case: an upgrade finds the clashes and says how to resolve them (real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-name-case-')
  const sbq = (...args: string[]) => runSbq(args, {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})

  before(async () => {
    for (const name of ['alice', 'bob']) assert.equal((await sbq('user', 'add', name, '--monthly', '10')).code, 0)
    await backToSchema9WithClash(workspace.db, 'alice', 'ALICE')
  })
  after(() => workspace.cleanup())

  it('refuses to upgrade with one line naming the clashing users and the fix, changing nothing', async () => {
    const before = dumpDatabase(workspace.db)
    const human = await sbq('user', 'list')
    assert.equal(human.code, 3, human.stderr)
    assert.equal(human.stdout, '')
    assert.equal(
      human.stderr,
      `error: database "${workspace.db}" has users whose names differ only in case, which V2Ray and Xray take for one user: "alice" and "ALICE" (keep one of each: sbq user remove ALICE, and add that person again under another name; then run sbq again)\n`,
    )
    const json = await sbq('check', '--json')
    assert.deepEqual([json.code, json.json.error.code], [3, 'USER_NAME_CLASH'])
    assert.deepEqual(dumpDatabase(workspace.db), before, 'the database is unchanged, still at schema 0009')
  })

  it('lets sbq user show and sbq user remove resolve the clash, after which the upgrade goes through', async () => {
    const shown = await sbq('user', 'show', 'ALICE', '--secrets', '--json')
    assert.equal(shown.code, 0, shown.stderr)
    assert.equal(typeof shown.json.credentials.uuid, 'string')
    const removed = await sbq('user', 'remove', 'ALICE', '--json')
    assert.equal(removed.code, 0, removed.stderr)
    assert.equal(removed.json.name, 'ALICE')
    const listed = await sbq('user', 'list', '--json')
    assert.equal(listed.code, 0, listed.stderr)
    assert.deepEqual(
      listed.json.map((user: {name: string}) => user.name),
      ['alice', 'bob'],
    )
  })

  it('then holds names unique without regard to case, in the database itself', async () => {
    await withRawDb(workspace.db, (db) =>
      assert.rejects(
        db.updateTable('users').set({name: 'Alice'}).where('name', '=', 'bob').execute(),
        /UNIQUE constraint failed|duplicate key value violates unique constraint "users_name_nocase"/,
      ),
    )
    const again = await sbq('user', 'add', 'Alice', '--json')
    assert.deepEqual([again.code, again.json.error.code], [3, 'USER_NAME_CLASH'])
  })
})
