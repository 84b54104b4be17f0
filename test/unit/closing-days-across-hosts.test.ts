import assert from 'node:assert/strict'
import {after, beforeEach, describe, it} from 'node:test'

import {closePastDays} from '../../src/lib/accounting/close-days.js'
import {recordUsage} from '../../src/lib/accounting/ledger.js'
import {openDatabase, type Db} from '../../src/lib/db/open-database.js'
import type {NodeRow} from '../../src/lib/db/schema.js'
import {addUser} from '../../src/lib/users/user-service.js'
import {contextAt} from '../support/memory-db.js'
import {freshPostgresDatabase, testDialect} from '../support/test-database.js'
import {insertV2rayNode} from '../support/test-nodes.js'

// On SQLite one write transaction at a time holds the whole file: nothing here can interleave there.
describe(
  'closing past days while other hosts write usage',
  {skip: testDialect === 'postgres' ? false : 'runs on the PostgreSQL pass'},
  () => {
    const opened: Db[] = []
    let first: Db
    let second: Db
    let node: NodeRow
    const may10 = contextAt('2024-05-10T12:00:00Z')
    after(async () => Promise.all(opened.map((db) => db.destroy())))

    beforeEach(async () => {
      const url = freshPostgresDatabase()
      ;[first, second] = [await openDatabase(url), await openDatabase(url)]
      opened.push(first, second)
      await addUser(first, {name: 'alice', reset: {every: 'month', day: 1}}, may10)
      node = await insertV2rayNode(first, 'n1', may10.now)
      // The day's first write closes the days before it: from here on, writes of May 10 close nothing.
      await first.transaction().execute((trx) => recordUsage(trx, node, traffic(100, 1000), may10))
    })

    const traffic = (up: number, down: number) => new Map([['alice', {up, down}]])
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

    /** A transaction that runs `work`, then stays open until the returned `release` is called. */
    function heldOpen<T>(db: Db, work: (trx: Db) => Promise<T>) {
      let release!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      let signal!: () => void
      const done = new Promise<void>((resolve) => (signal = resolve))
      let attempts = 0
      const committed = db.transaction().execute(async (trx) => {
        attempts++
        const result = await work(trx)
        signal()
        await released
        return result
      })
      return {workDone: done, release, committed, attempts: () => attempts}
    }

    it('a closing waits for a write still in flight into a day it closes, and counts that write', async () => {
      // A pull that began a second before midnight is still writing May 10 when another host's first pull of May 11
      // closes May 10: without waiting, the closing could not see the rows that pull has not committed yet.
      const lateWrite = heldOpen(first, (trx) =>
        recordUsage(trx, node, traffic(1, 10), contextAt('2024-05-10T23:59:59Z')),
      )
      await lateWrite.workDone
      let closedAt: number | undefined
      const closing = second
        .transaction()
        .execute((trx) => closePastDays(trx, '2024-05-11'))
        .then((day) => {
          closedAt = Date.now()
          return day
        })
      await pause(300)
      assert.equal(closedAt, undefined, 'the closing waits for the write in flight')
      const releasedAt = Date.now()
      lateWrite.release()
      await lateWrite.committed
      assert.equal(await closing, '2024-05-10')
      assert.ok(closedAt! >= releasedAt)
      assert.deepEqual(await second.selectFrom('usage_closed_monthly').selectAll().execute(), [
        {month: '2024-05', user_name: 'alice', node_name: 'n1', up: 101, down: 1010, raw_up: 101, raw_down: 1010},
      ])
    })

    it('a write that comes while a closing runs waits for it, then adds its late bytes to the closed sums', async () => {
      const closing = heldOpen(first, (trx) => closePastDays(trx, '2024-05-11'))
      await closing.workDone
      const lateWrite = second
        .transaction()
        .execute((trx) => recordUsage(trx, node, traffic(1, 10), contextAt('2024-05-10T23:59:59Z')))
      await pause(300)
      closing.release()
      await Promise.all([closing.committed, lateWrite])
      assert.deepEqual(await second.selectFrom('usage_closed_monthly').selectAll().execute(), [
        {month: '2024-05', user_name: 'alice', node_name: 'n1', up: 101, down: 1010, raw_up: 101, raw_down: 1010},
      ])
    })

    it('hosts closing the same days at once close them once: the later one finds nothing left to do', async () => {
      const earlier = heldOpen(first, (trx) => closePastDays(trx, '2024-05-11'))
      await earlier.workDone
      const later = heldOpen(second, (trx) => closePastDays(trx, '2024-05-11'))
      await pause(300)
      earlier.release()
      await earlier.committed
      await later.workDone
      later.release()
      assert.equal(await later.committed, '2024-05-10')
      // Had it summed the days again, it would have failed its compare-and-set and run a second time.
      assert.equal(later.attempts(), 1)
      assert.deepEqual(await first.selectFrom('usage_closed_monthly').selectAll().execute(), [
        {month: '2024-05', user_name: 'alice', node_name: 'n1', up: 100, down: 1000, raw_up: 100, raw_down: 1000},
      ])
    })
  },
)
