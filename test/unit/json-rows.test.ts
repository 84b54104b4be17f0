import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {selectJsonRows} from '../../src/lib/db/json-rows.js'
import {memoryDb} from '../support/memory-db.js'

describe('selectJsonRows', () => {
  it('returns the same rows as execute(): names, aliases, nulls, text that needs escaping, large integers', async () => {
    const db = await memoryDb()
    const bigBytes = 2 ** 53 - 1
    await db
      .insertInto('plans')
      .values({name: 'p "quoted" \\ 名', monthly_quota: bigBytes, total_quota: 0, reset_day: 15, max_ips: null, created_at: 1})
      .execute()
    await db.insertInto('plans').values({name: 'plain', monthly_quota: 0, total_quota: 5, reset_day: 1, max_ips: 2, created_at: 2}).execute()
    const query = db
      .selectFrom('plans')
      .leftJoin('users', 'users.plan_id', 'plans.id')
      .select(['plans.name', 'plans.monthly_quota as quota', 'plans.max_ips', 'users.note'])
      .select((eb) => eb.fn.coalesce('plans.max_ips', eb.val(0)).as('ips'))
      .orderBy('plans.name')

    const rows = await selectJsonRows(db, query)

    assert.deepEqual(rows, await query.execute())
    assert.equal(rows.find((row) => row.name.startsWith('p '))!.quota, bigBytes)
    assert.equal(rows[0]!.note, null)
  })

  it('gives an empty array for no rows', async () => {
    const db = await memoryDb()
    assert.deepEqual(await selectJsonRows(db, db.selectFrom('plans').select(['name', 'id'])), [])
  })

  it('refuses a column name given twice (SQLite would rename the second) and "__proto__"', async () => {
    const db = await memoryDb()
    await assert.rejects(selectJsonRows(db, db.selectFrom('plans').leftJoin('users', 'users.plan_id', 'plans.id').select(['plans.id', 'users.id'])), /"id" \(repeated or reserved\)/)
    await assert.rejects(selectJsonRows(db, db.selectFrom('plans').select('name as __proto__')), /"__proto__"/)
  })

  it('refuses a selection it cannot name', async () => {
    const db = await memoryDb()
    await assert.rejects(selectJsonRows(db, db.selectFrom('plans').selectAll()), /needs every selected column named/)
  })
})
