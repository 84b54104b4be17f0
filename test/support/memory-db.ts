import {openDatabase, type Db} from '../../src/lib/db/open-database.js'
import {freshPostgresDatabase, testDialect} from './test-database.js'
import type {Context} from '../../src/lib/context.js'

/** A new database for one test: SQLite in memory, or on the PostgreSQL pass a new database on the test cluster. */
export async function memoryDb(): Promise<Db> {
  return openDatabase(testDialect === 'postgres' ? freshPostgresDatabase() : ':memory:')
}

export function contextAt(iso: string, timeZone = 'UTC'): Context {
  return {now: Date.parse(iso), timeZone, actor: 'cli'}
}
