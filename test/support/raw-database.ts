import BetterSqlite3 from 'better-sqlite3'
import {Kysely, PostgresDialect, SqliteDialect, sql} from 'kysely'
import pg from 'pg'

/**
 * A plain Kysely on an sbq database (an SQLite path or a PostgreSQL URL), without sbq's migrations or retries: for
 * tests that seed rows a user could not make quickly through the CLI, or read rows back to check them. Queries use
 * Kysely's builder or its `sql` template, which bind values the same way on both databases.
 */

export async function withRawDb<T>(location: string, use: (db: Kysely<any>) => Promise<T>): Promise<T> {
  const postgres = /^postgres(ql)?:\/\//.test(location)

  const db = new Kysely<any>({
    dialect: postgres
      ? new PostgresDialect({
          pool: new pg.Pool({
            connectionString: location,
            max: 1,
            // Counts and sums (int8, numeric) as numbers, as sbq reads them.
            types: {
              getTypeParser: (oid: number, format?: 'text' | 'binary') =>
                oid === 20 || oid === 1700 ? Number : pg.types.getTypeParser(oid, format),
            },
          }),
        })
      : new SqliteDialect({database: new BetterSqlite3(location)}),
  })
  try {
    return await use(db)
  } finally {
    await db.destroy()
  }
}

/** Inserts many rows in few statements (each dialect's bound-value limit kept), in one transaction. */
export async function insertRows(location: string, table: string, rows: Array<Record<string, unknown>>): Promise<void> {
  if (rows.length === 0) return
  const perStatement = Math.floor(30_000 / Object.keys(rows[0]!).length)
  await withRawDb(location, (db) =>
    db.transaction().execute(async (trx) => {
      for (let offset = 0; offset < rows.length; offset += perStatement)
        await trx
          .insertInto(table)
          .values(rows.slice(offset, offset + perStatement))
          .execute()
      // Rows inserted with their ids leave PostgreSQL's identity sequence behind them; the next sbq insert needs it past.
      if (/^postgres/.test(location) && 'id' in rows[0]!)
        await sql`select setval(pg_get_serial_sequence(${table}, 'id'), (select max(id) from ${sql.table(table)}))`.execute(
          trx,
        )
    }),
  )
}
