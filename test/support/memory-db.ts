import {openDatabase, type Db} from '../../src/lib/db/open-database.js'
import type {Context} from '../../src/lib/context.js'

export async function memoryDb(): Promise<Db> {
  return openDatabase(':memory:')
}

export function contextAt(iso: string, timeZone = 'UTC'): Context {
  return {now: Date.parse(iso), timeZone, actor: 'cli'}
}
