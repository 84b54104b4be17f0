import {PostgresAdapter} from 'kysely'

import type {Db} from './database.js'
import type {Dialect} from './dialect.js'
import {postgresDialect} from './postgres/postgres-dialect.js'
import {sqliteDialect} from './sqlite/sqlite-dialect.js'

/** The dialect a database (or a transaction on it) speaks; only src/lib/db/ asks. */
export function dialectOf(db: Db): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? postgresDialect : sqliteDialect
}
