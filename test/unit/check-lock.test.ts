import assert from 'node:assert/strict'
import {hostname} from 'node:os'
import {after, before, describe, it} from 'node:test'

import BetterSqlite3 from 'better-sqlite3'
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from 'kysely'

import {openDatabase, type Db} from '../../src/lib/db/open-database.js'
import {acquireLock} from '../../src/lib/enforcement/check-lock.js'
import {tempWorkspace} from '../support/run-sbq.js'
import {sqliteOnly} from '../support/test-database.js'

/** After the waiter's first write to the locks table, the holder (another process, here a second connection) lets go. */
class ReleaseAfterFirstLockWrite implements KyselyPlugin {
  private released = false
  private readonly lockWrites = new Set<unknown>()
  constructor(private readonly release: () => void) {}

  transformQuery({node, queryId}: PluginTransformQueryArgs): RootOperationNode {
    if (node.kind === 'InsertQueryNode') this.lockWrites.add(queryId.queryId)
    return node
  }

  async transformResult({result, queryId}: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (!this.released && this.lockWrites.has(queryId.queryId)) {
      this.released = true
      this.release()
    }
    return result
  }
}

// The race of two processes over the SQLite locks row; on PostgreSQL the lock is an advisory lock (test/e2e/fleet).
describe('the check lock changes hands', {skip: sqliteOnly}, () => {
  const workspace = tempWorkspace('sbq-lock-')
  let db: Db
  let holder: BetterSqlite3.Database

  before(async () => {
    db = await openDatabase(workspace.db)
    holder = new BetterSqlite3(workspace.db)
  })
  after(async () => {
    holder.close()
    await db.destroy()
    workspace.cleanup()
  })

  it('a waiter whose holder releases between its attempt and its look at the holder takes the lock, never fails', async () => {
    // pid 1 is alive on every host, so the waiter must wait for it rather than take over a dead holder's lock.
    holder
      .prepare('insert into locks (name, pid, host, acquired_at) values (?, 1, ?, ?)')
      .run('check', hostname(), Date.now())
    const waiter = db.withPlugin(
      new ReleaseAfterFirstLockWrite(() => holder.prepare('delete from locks where name = ?').run('check')),
    )
    assert.equal(await acquireLock(waiter, 'check', 2000), null)
    assert.deepEqual(holder.prepare('select pid, host from locks').all(), [{pid: process.pid, host: hostname()}])
  })
})
