import {sql, type RawBuilder} from 'kysely'

import type {Db} from '../database.js'
import type {Dialect, LockOwner} from '../dialect.js'
import type {LockRow} from '../schema.js'
import {assertExactNumbers} from '../exact-numbers.js'
import {writeConflict} from '../write-conflict.js'
import {damagedDatabase} from './damaged-database.js'

/**
 * SQLite: one file, one writer at a time (each write transaction takes the write lock up front and waits for it), so
 * nothing between sbq processes needs retrying but sbq's own detected write conflicts.
 */
export const sqliteDialect: Dialect = {
  jsonArrayOfRows: (values) => sql`coalesce(json_group_array(json_array(${values})), '[]')`,
  jsonArrayOf: (value: RawBuilder<unknown>) => sql`coalesce(json_group_array(${value}), '[]')`,
  readJson: (value) => {
    const parsed = JSON.parse(value as string) as unknown[]
    assertExactNumbers(parsed)
    return parsed
  },
  // Every write transaction holds the database's write lock from its first statement: nobody can interleave.
  forUpdate: (query) => query,
  lockForTransaction: async () => {},
  // SQLITE_MAX_VARIABLE_NUMBER in better-sqlite3's build: a statement with more bound values is refused.
  maxBoundValues: 32_766,
  // The same write through json_each(?) took 72 ms against 49 ms for 500-row VALUES batches (10k daily rows and
  // running totals, one transaction): SQLite's JSON functions cost more than its parsing of a reused statement.
  rowSet: () => null,
  isTransient: (error) => writeConflict(error),
  takeLockOrHolder,
  takeOverLock,
  releaseLock: async (db, name, pid) => {
    await db.deleteFrom('locks').where('name', '=', name).where('pid', '=', pid).execute()
  },
  afterBulkInsert: async () => {},
  describeFailure: (location, error) => damagedDatabase(location, error),
}

/**
 * One statement that takes the lock or names its holder: an insert-or-ignore followed by a separate read found no
 * row when the holder let go in between. The no-op update makes RETURNING give the holder's row on a conflict.
 */
async function takeLockOrHolder(db: Db, name: string, owner: LockOwner, at: number): Promise<LockRow> {
  return db
    .insertInto('locks')
    .values({name, pid: owner.pid, host: owner.host, acquired_at: at})
    .onConflict((oc) => oc.column('name').doUpdateSet({name: (eb) => eb.ref('locks.name')}))
    .returningAll()
    .executeTakeFirstOrThrow()
}

async function takeOverLock(db: Db, name: string, holder: LockOwner, owner: LockOwner, at: number): Promise<void> {
  await db
    .updateTable('locks')
    .set({pid: owner.pid, host: owner.host, acquired_at: at})
    .where('name', '=', name)
    .where('pid', '=', holder.pid)
    .where('host', '=', holder.host)
    .execute()
}
