/**
 * The contract every database dialect of sbq fills, one folder each (sqlite/, postgres/). Repositories write portable
 * Kysely queries; where the two databases spell something differently, or behave differently under many writers, the
 * repository asks `dialectOf(db)` for the dialect's own piece. Nothing outside src/lib/db/ sees which dialect it has.
 */
import type {RawBuilder, SelectQueryBuilder} from 'kysely'

import type {SbqError} from '../errors.js'
import type {Db} from './database.js'
import type {LockRow} from './schema.js'

/** Who holds (or asks for) a lock: a process on a host. */
export interface LockOwner {
  pid: number
  host: string
}

/** A column of a row set: its name in the rows and the table, and the SQL type of its values. */
export interface RowSetColumn {
  name: string
  type: 'text' | 'bigint'
}

export interface Dialect {
  /**
   * One aggregate over the rows of `agg`: a JSON array holding one array per row, of `values` in order; `[]` for no
   * rows. `readJson` turns the selected value into the array.
   */
  jsonArrayOfRows(values: RawBuilder<unknown>): RawBuilder<unknown>
  /** One aggregate over the rows of `agg`: a JSON array of `value` per row; `[]` for no rows. */
  jsonArrayOf(value: RawBuilder<unknown>): RawBuilder<unknown>
  /** What the driver returned for a JSON aggregate, as parsed JSON. */
  readJson(value: unknown): unknown[]
  /**
   * The query, made to lock the rows it reads until the transaction ends, so that a read-then-write in one transaction
   * is not interleaved with another host's. (On SQLite the write transaction's lock on the whole file already is.)
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any table, any row
  forUpdate<Q extends SelectQueryBuilder<any, any, any>>(query: Q): Q
  /**
   * Holds the named lock until the transaction ends, waiting for it: `shared` beside other shared holders, `exclusive`
   * alone. For writers that must not interleave with one another's whole transactions, not just rows. (On SQLite the
   * write transaction's lock on the whole file already is such a lock.)
   */
  lockForTransaction(db: Db, name: string, mode: 'shared' | 'exclusive'): Promise<void>
  /** How many values one statement may bind. */
  readonly maxBoundValues: number
  /**
   * Rows to be written as ONE set: a subquery of `columns` (in order, each of its SQL type) over all of `rows`, which
   * an `insert … select * from` writes in one statement whatever their number; or null where the dialect writes them
   * faster as multi-row VALUES in batches (each dialect says what it measured).
   */
  rowSet(columns: readonly RowSetColumn[], rows: readonly object[]): RawBuilder<unknown> | null
  /**
   * Whether a failed transaction should simply run again: a deadlock or serialization failure between hosts on a
   * server database, or sbq's own detected write conflict. Never an error a user should see.
   */
  isTransient(error: unknown): boolean
  /**
   * Takes the named lock for `owner` without waiting, or names its holder: the row returned is the lock's holder
   * either way. A holder that died must not keep it.
   */
  takeLockOrHolder(db: Db, name: string, owner: LockOwner, at: number): Promise<LockRow>
  /** Hands the lock from a dead `holder` (same host, pid gone) to `owner`, unless `holder` no longer has it. */
  takeOverLock(db: Db, name: string, holder: LockOwner, owner: LockOwner, at: number): Promise<void>
  releaseLock(db: Db, name: string, pid: number): Promise<void>
  /**
   * After rows were written with explicit ids into `tables` (each with a generated `id`): makes the next generated id
   * follow the largest one written. SQLite's AUTOINCREMENT does that by itself.
   */
  afterBulkInsert(db: Db, tables: readonly string[]): Promise<void>
  /** The one line for a failure that is the database's (damaged file, server gone), or undefined for any other. */
  describeFailure(location: string, error: unknown): SbqError | undefined
}
