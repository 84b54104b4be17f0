import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {selectJsonColumns, selectJsonRows} from '../../src/lib/db/json-rows.js'
import {memoryDb} from '../support/memory-db.js'

describe('selectJsonRows', () => {
  it('returns the same rows as execute(): names, aliases, nulls, text that needs escaping, large integers', async () => {
    const db = await memoryDb()
    const bigBytes = 2 ** 53 - 1
    await db
      .insertInto('plans')
      .values({
        name: 'p "quoted" \\ 名',
        monthly_quota: bigBytes,
        total_quota: 0,
        reset_day: 15,
        max_ips: null,
        created_at: 1,
      })
      .execute()
    await db
      .insertInto('plans')
      .values({name: 'plain', monthly_quota: 0, total_quota: 5, reset_day: 1, max_ips: 2, created_at: 2})
      .execute()
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
    await assert.rejects(
      selectJsonRows(
        db,
        db.selectFrom('plans').leftJoin('users', 'users.plan_id', 'plans.id').select(['plans.id', 'users.id']),
      ),
      /"id" \(repeated or reserved\)/,
    )
    await assert.rejects(selectJsonRows(db, db.selectFrom('plans').select('name as __proto__')), /"__proto__"/)
  })

  it('refuses a selection it cannot name', async () => {
    const db = await memoryDb()
    await assert.rejects(selectJsonRows(db, db.selectFrom('plans').selectAll()), /needs every selected column named/)
  })
})

describe('selectJsonColumns', () => {
  it('returns each column of execute() as one array, in the query order, nulls and large integers kept', async () => {
    const db = await memoryDb()
    await db
      .insertInto('plans')
      .values({
        name: 'b "quoted" 名',
        monthly_quota: 2 ** 53 - 1,
        total_quota: 0,
        reset_day: 15,
        max_ips: null,
        created_at: 1,
      })
      .execute()
    await db
      .insertInto('plans')
      .values({name: 'a', monthly_quota: 0, total_quota: 5, reset_day: 1, max_ips: 2, created_at: 2})
      .execute()
    const query = db.selectFrom('plans').select(['name', 'monthly_quota as quota', 'max_ips']).orderBy('name')

    const columns = await selectJsonColumns(db, query)

    const rows = await query.execute()
    assert.deepEqual(columns, {
      name: rows.map((row) => row.name),
      quota: rows.map((row) => row.quota),
      max_ips: rows.map((row) => row.max_ips),
    })
    assert.deepEqual(columns.name, ['a', 'b "quoted" 名'])
    assert.deepEqual(columns.max_ips, [2, null])
  })

  it('gives empty columns for no rows, and refuses what selectJsonRows refuses', async () => {
    const db = await memoryDb()
    assert.deepEqual(await selectJsonColumns(db, db.selectFrom('plans').select(['name', 'id'])), {name: [], id: []})
    await assert.rejects(selectJsonColumns(db, db.selectFrom('plans').selectAll()), /needs every selected column named/)
  })
})
