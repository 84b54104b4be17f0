import assert from 'node:assert/strict'
import {after, describe, it} from 'node:test'

import {sql} from 'kysely'

import {openDatabase, type Db} from '../../src/lib/db/open-database.js'
import {WriteConflict} from '../../src/lib/db/write-conflict.js'
import {memoryDb} from '../support/memory-db.js'
import {freshPostgresDatabase, testDialect} from '../support/test-database.js'

describe('transactions that lose only to another writer’s timing run again', () => {
  it('a detected write conflict reruns the whole transaction, which then commits once', async () => {
    const db = await memoryDb()
    try {
      let attempts = 0
      const result = await db.transaction().execute(async (trx) => {
        attempts++
        await trx
          .insertInto('settings')
          .values({key: 'probe', value: String(attempts)})
          .execute()
        if (attempts === 1) throw new WriteConflict('another writer moved the row meanwhile')
        return 'done'
      })
      assert.equal(result, 'done')
      assert.equal(attempts, 2)
      // The first attempt's insert was rolled back with it: one row, from the second.
      assert.deepEqual(await db.selectFrom('settings').selectAll().where('key', '=', 'probe').execute(), [
        {key: 'probe', value: '2'},
      ])
    } finally {
      await db.destroy()
    }
  })

  it('any other failure is not retried', async () => {
    const db = await memoryDb()
    try {
      let attempts = 0
      await assert.rejects(
        db.transaction().execute(async () => {
          attempts++
          throw new Error('a real failure')
        }),
        /a real failure/,
      )
      assert.equal(attempts, 1)
    } finally {
      await db.destroy()
    }
  })

  describe('on PostgreSQL', {skip: testDialect === 'postgres' ? false : 'runs on the PostgreSQL pass'}, () => {
    const opened: Db[] = []
    after(async () => Promise.all(opened.map((db) => db.destroy())))

    it('two hosts that deadlock both commit: PostgreSQL aborts one, which runs again', async () => {
      const url = freshPostgresDatabase()
      const [first, second] = [await openDatabase(url), await openDatabase(url)]
      opened.push(first, second)
      await first
        .insertInto('settings')
        .values([
          {key: 'a', value: '0'},
          {key: 'b', value: '0'},
        ])
        .execute()
      // Each takes one row, waits until the other has taken its row, then wants the other's: a deadlock, which
      // PostgreSQL breaks (after deadlock_timeout, 1 s) by failing one of them with 40P01.
      let holding = 0
      const bothHolding = async () => {
        holding++
        while (holding < 2) await new Promise((resolve) => setTimeout(resolve, 5))
      }
      const attempts = {first: 0, second: 0}
      const update = (db: Db, name: 'first' | 'second', one: string, other: string) =>
        db.transaction().execute(async (trx) => {
          attempts[name]++
          await sql`update settings set value = value || ${name} where key = ${one}`.execute(trx)
          if (attempts[name] === 1) await bothHolding()
          await sql`update settings set value = value || ${name} where key = ${other}`.execute(trx)
        })
      await Promise.all([update(first, 'first', 'a', 'b'), update(second, 'second', 'b', 'a')])
      assert.equal(attempts.first + attempts.second, 3, 'exactly one of the two ran again')
      const rows = await first.selectFrom('settings').selectAll().orderBy('key').execute()
      for (const row of rows) assert.equal([...row.value.matchAll(/first|second/g)].length, 2, row.value)
    })
  })
})
