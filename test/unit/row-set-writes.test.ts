import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {addDailyUsage, addUnmanagedDailyUsage} from '../../src/lib/db/usage-repository.js'
import type {UsageDailyTable} from '../../src/lib/db/schema.js'
import {memoryDb} from '../support/memory-db.js'

// Names an array literal or a JSON text must escape: PostgreSQL receives each column as one array parameter.
const awkwardNames = ['a "quoted" name', 'back\\slash', '{braces}', 'comma, space', 'NULL', '', 'Ünï 名字 🚀', "it's"]

describe('usage rows written as one set (Dialect.rowSet) or in batches', () => {
  it('adds every row exactly, names that need escaping and 2^53 - 1 bytes included, and adds again on a second write', async () => {
    const db = await memoryDb()
    const largest = 2 ** 53 - 1
    const rows: UsageDailyTable[] = [
      ...awkwardNames.map((user_name, index) => ({
        day: '2024-05-02',
        node_name: 'de1',
        user_name,
        up: index,
        down: index * 10,
        raw_up: index * 2,
        raw_down: index * 20,
      })),
      // More rows than one VALUES batch holds, so a batching dialect writes several statements.
      ...Array.from({length: 1200}, (_, index) => ({
        day: '2024-05-02',
        node_name: 'de1',
        user_name: `user${index}`,
        up: 1,
        down: 2,
        raw_up: 3,
        raw_down: 4,
      })),
      {day: '2024-05-02', node_name: 'de1', user_name: 'largest', up: largest, down: 0, raw_up: largest, raw_down: 0},
    ]
    await addDailyUsage(db, rows)
    await addDailyUsage(
      db,
      rows.filter((row) => row.user_name !== 'largest'),
    )
    const stored = await db
      .selectFrom('usage_daily')
      .select(['user_name', 'up', 'down', 'raw_up', 'raw_down'])
      .execute()
    const byName = new Map(stored.map((row) => [row.user_name, row]))
    assert.equal(stored.length, rows.length)
    awkwardNames.forEach((name, index) =>
      assert.deepEqual(
        byName.get(name),
        {user_name: name, up: 2 * index, down: 20 * index, raw_up: 4 * index, raw_down: 40 * index},
        name,
      ),
    )
    assert.deepEqual(byName.get('user1199'), {user_name: 'user1199', up: 2, down: 4, raw_up: 6, raw_down: 8})
    assert.deepEqual(byName.get('largest'), {user_name: 'largest', up: largest, down: 0, raw_up: largest, raw_down: 0})
  })

  it('writes nothing for no rows', async () => {
    const db = await memoryDb()
    await addUnmanagedDailyUsage(db, [])
    assert.deepEqual(await db.selectFrom('unmanaged_usage_daily').selectAll().execute(), [])
  })

  it('adds unmanaged names with their own key', async () => {
    const db = await memoryDb()
    const rows = awkwardNames.map((name) => ({day: '2024-05-02', node_name: 'de1', name, up: 5, down: 7}))
    await addUnmanagedDailyUsage(db, rows)
    await addUnmanagedDailyUsage(db, rows.slice(0, 2))
    const stored = await db.selectFrom('unmanaged_usage_daily').select(['name', 'up', 'down']).execute()
    const byName = (a: {name: string}, b: {name: string}): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    assert.deepEqual(
      stored.sort(byName),
      awkwardNames.map((name, index) => ({name, up: index < 2 ? 10 : 5, down: index < 2 ? 14 : 7})).sort(byName),
    )
  })
})
