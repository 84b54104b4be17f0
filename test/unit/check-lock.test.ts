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
import {sql} from 'kysely'

import {openDatabase, type Db} from '../../src/lib/db/open-database.js'
import {deleteLock, takeLockOrHolder} from '../../src/lib/db/check-lock-repository.js'
import {acquireLocks, releaseLocks} from '../../src/lib/enforcement/check-lock.js'
import {tempWorkspace} from '../support/run-sbq.js'
import {freshPostgresDatabase, sqliteOnly, testDialect} from '../support/test-database.js'

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
      .run('check:lab', hostname(), Date.now())
    const waiter = db.withPlugin(
      new ReleaseAfterFirstLockWrite(() => holder.prepare('delete from locks where name = ?').run('check:lab')),
    )
    assert.equal(await acquireLocks(waiter, ['check:lab'], 2000), null)
    assert.deepEqual(holder.prepare('select pid, host from locks').all(), [{pid: process.pid, host: hostname()}])
  })
})

// Another process's locks, on either dialect: a second connection that takes them for pid 1, which is alive on every
// host, so the run under test must wait for it rather than take over a dead holder's lock.
describe('the per-node check locks', () => {
  const workspace = tempWorkspace('sbq-locks-')
  const other = {pid: 1, host: hostname()}
  let db: Db
  let holder: Db

  before(async () => {
    db = await openDatabase(workspace.db)
    holder = await openDatabase(workspace.db)
  })
  after(async () => {
    await holder.destroy()
    await db.destroy()
    workspace.cleanup()
  })

  /** Whether the other process can take the lock now; it lets go again at once. */
  const freeForOthers = async (name: string) => {
    const row = await takeLockOrHolder(holder, name, other, Date.now())
    if (row.pid !== other.pid) return false
    await deleteLock(holder, name, other.pid)
    return true
  }

  it("a run takes another node's lock at once while one node's is held", async () => {
    assert.equal((await takeLockOrHolder(holder, 'check:tokyo', other, Date.now())).pid, other.pid)
    try {
      const started = Date.now()
      assert.equal(await acquireLocks(db, ['check:paris'], 5000), null)
      assert.ok(Date.now() - started < 1000, 'no wait for the other node')
      assert.equal(await freeForOthers('check:paris'), false)
      await releaseLocks(db, ['check:paris'])
      assert.equal(await freeForOthers('check:paris'), true)
    } finally {
      await deleteLock(holder, 'check:tokyo', other.pid)
    }
  })

  it('a run that finds one of its locks held lets go of those it took, and names the holder when it gives up', async () => {
    assert.equal((await takeLockOrHolder(holder, 'check:tokyo', other, Date.now())).pid, other.pid)
    try {
      // paris sorts before tokyo, so it was taken first and must have been let go.
      const found = await acquireLocks(db, ['check:tokyo', 'check:paris'], 300)
      assert.deepEqual([found?.lock, found?.pid, found?.host], ['check:tokyo', other.pid, other.host])
      assert.equal(await freeForOthers('check:paris'), true, 'the run let go of paris while it waited')
    } finally {
      await deleteLock(holder, 'check:tokyo', other.pid)
    }
  })

  it('a waiting run takes every lock once the holder lets go', async () => {
    assert.equal((await takeLockOrHolder(holder, 'check:tokyo', other, Date.now())).pid, other.pid)
    const letGo = setTimeout(() => void deleteLock(holder, 'check:tokyo', other.pid), 500)
    try {
      assert.equal(await acquireLocks(db, ['check:paris', 'check:tokyo'], 5000), null)
      assert.equal(await freeForOthers('check:paris'), false)
      assert.equal(await freeForOthers('check:tokyo'), false)
    } finally {
      clearTimeout(letGo)
      await releaseLocks(db, ['check:paris', 'check:tokyo'])
    }
    assert.equal(await freeForOthers('check:tokyo'), true)
  })
})

describe(
  'a check lock on PostgreSQL',
  {skip: testDialect === 'postgres' ? false : 'runs on the PostgreSQL pass'},
  () => {
    it('is asked to end with the session of a host that vanished: sbq sets the server’s TCP keepalives', async () => {
      // A host that loses power keeps its session, and the advisory lock with it, until the server's TCP notices. The
      // settings are sbq's; whether the kernel then drops the session is the kernel's, which no loopback test can cut.
      const db = await openDatabase(freshPostgresDatabase())
      try {
        const {rows} = await sql<{idle: string; interval: string; count: string}>`select
        current_setting('tcp_keepalives_idle') as idle,
        current_setting('tcp_keepalives_interval') as interval,
        current_setting('tcp_keepalives_count') as count`.execute(db)
        assert.deepEqual(rows, [{idle: '30', interval: '10', count: '6'}])
      } finally {
        await db.destroy()
      }
    })
  },
)
