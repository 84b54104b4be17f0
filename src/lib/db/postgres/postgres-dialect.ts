import {sql, type RawBuilder} from 'kysely'

import {ExitCode, SbqError} from '../../errors.js'
import type {Db} from '../database.js'
import type {Dialect, LockOwner} from '../dialect.js'
import type {LockRow} from '../schema.js'
import {assertExactNumbers} from '../exact-numbers.js'
import {writeConflict} from '../write-conflict.js'

/**
 * PostgreSQL: many sbq hosts on one database. Writers of different rows never wait for each other; writers of the
 * same rows wait on row locks, and a deadlock or serialization failure between them is retried, never shown.
 */
export const postgresDialect: Dialect = {
  // json_agg returns NULL over no rows; node-postgres parses json itself.
  jsonArrayOfRows: (values) => sql`coalesce(json_agg(json_build_array(${values})), '[]'::json)`,
  jsonArrayOf: (value: RawBuilder<unknown>) => sql`coalesce(json_agg(${value}), '[]'::json)`,
  readJson: (value) => {
    assertExactNumbers(value as unknown[])
    return value as unknown[]
  },
  forUpdate: (query) => query.forUpdate() as typeof query,
  lockForTransaction: async (db, name, mode) => {
    if (mode === 'shared') await sql`select pg_advisory_xact_lock_shared(${lockKey(name)})`.execute(db)
    else await sql`select pg_advisory_xact_lock(${lockKey(name)})`.execute(db)
  },
  // The protocol's limit: a statement's parameter count is a 16-bit number.
  maxBoundValues: 65_535,
  // One array per column, unnested: the statement is a few lines whatever the number of rows, so the server parses and
  // plans it once instead of a 500-row VALUES list per batch (10k daily rows and running totals in one transaction:
  // 165–175 ms against 250–265 ms batched).
  rowSet: (columns, rows) => {
    const arrays = columns.map(
      ({name, type}) => sql`${rows.map((row) => (row as Record<string, unknown>)[name])}::${sql.raw(type)}[]`,
    )
    const names = columns.map(({name}) => sql.id(name))
    return sql`(select * from unnest(${sql.join(arrays)}) as unnested(${sql.join(names)}))`
  },
  isTransient: (error) => writeConflict(error) || transientCodes.has(sqlState(error) ?? ''),
  takeLockOrHolder,
  takeOverLock: async () => {
    // A dead holder's session ended, and PostgreSQL released its advisory lock with it: nothing to take over.
  },
  releaseLock: async (db, name, pid) => {
    await sql`select pg_advisory_unlock(${lockKey(name)})`.execute(db)
    await db.deleteFrom('locks').where('name', '=', name).where('pid', '=', pid).execute()
  },
  afterBulkInsert: async (db, tables) => {
    // An identity column's sequence knows nothing of ids inserted explicitly: the next insert would take id 1 again.
    // With no rows, the sequence is set to give 1 next (is_called false).
    for (const table of tables)
      await sql`select setval(pg_get_serial_sequence(${table}, 'id'), coalesce(max(id), 1), max(id) is not null) from ${sql.table(table)}`.execute(
        db,
      )
  },
  describeFailure,
}

// serialization_failure, deadlock_detected, unique_violation. A unique violation is transient only because every
// insert sbq makes into a unique key is an upsert or an insert-if-absent: two hosts' first inserts of one row race,
// and the loser's retry sees the row.
const transientCodes = new Set(['40001', '40P01', '23505'])

function sqlState(error: unknown): string | undefined {
  const code = (error as {code?: unknown} | null)?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** The advisory lock's 64-bit key: the lock's name hashed by the server, so every host derives the same key. */
function lockKey(name: string): RawBuilder<unknown> {
  return sql`hashtextextended(${`sbq:${name}`}, 0)`
}

/**
 * The lock itself is a session-level advisory lock: it is released when the holder's connection ends, however the
 * holder died, on whichever host. The locks row only says who holds it, for the message of a run that finds it held.
 */
async function takeLockOrHolder(db: Db, name: string, owner: LockOwner, at: number): Promise<LockRow> {
  for (let attempt = 0; ; attempt++) {
    const {rows} = await sql<{taken: boolean}>`select pg_try_advisory_lock(${lockKey(name)}) as taken`.execute(db)
    if (rows[0]!.taken) {
      return db
        .insertInto('locks')
        .values({name, pid: owner.pid, host: owner.host, acquired_at: at})
        .onConflict((oc) =>
          oc.column('name').doUpdateSet((eb) => ({
            pid: eb.ref('excluded.pid'),
            host: eb.ref('excluded.host'),
            acquired_at: eb.ref('excluded.acquired_at'),
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow()
    }
    const holder = await db.selectFrom('locks').selectAll().where('name', '=', name).executeTakeFirst()
    // The holder has the lock but has not written its row yet (or is letting go): ask again.
    if (holder && !(holder.pid === owner.pid && holder.host === owner.host)) return holder
    if (attempt >= 20) return {name, pid: 0, host: 'another host', acquired_at: at}
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Connection failures: the server is down, restarting, or unreachable from here. */
const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'])

function describeFailure(location: string, error: unknown): SbqError | undefined {
  const code = (error as {code?: unknown} | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  const state = sqlState(error)
  if (
    (typeof code === 'string' && (unreachableCodes.has(code) || code === 'ENOTFOUND' || code === 'EAI_AGAIN')) ||
    (state !== undefined && (state.startsWith('08') || state.startsWith('57P'))) ||
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message)
  ) {
    return new SbqError('DATABASE_UNREACHABLE', `database "${location}" cannot be reached: ${message}`, {
      exit: ExitCode.unreachable,
      hint: 'start PostgreSQL or fix the host in --db (or SBQ_DB); sbq changed nothing, and the next run bills the traffic since',
      cause: error,
    })
  }
  // The server asked for a password and there was none (not in the URL, PGPASSWORD or ~/.pgpass): node-postgres says
  // so in its own words, without a SQLSTATE, before it sends anything.
  if (/client password must be a string/.test(message)) {
    return new SbqError('DATABASE_UNUSABLE', `database "${location}" needs a password, and sbq was given none`, {
      exit: ExitCode.invalidInput,
      hint: 'set PGPASSWORD, or add the database to ~/.pgpass (mode 0600), or put it in --db (or SBQ_DB)',
      cause: error,
    })
  }
  if (state === '28P01' || state === '28000' || state === '3D000') {
    return new SbqError('DATABASE_UNUSABLE', `database "${location}" refused sbq: ${message}`, {
      exit: ExitCode.invalidInput,
      hint:
        state === '3D000'
          ? 'create it first (createdb --locale=C --template=template0 NAME) or fix its name in --db (or SBQ_DB)'
          : 'fix the user or password in --db (or SBQ_DB), or PGPASSWORD / ~/.pgpass',
      cause: error,
    })
  }
  return undefined
}
