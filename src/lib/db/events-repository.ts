import {batchedInsert} from './batched-upsert.js'
import type {Db} from './open-database.js'
import type {EventRow, NewEvent} from './schema.js'

/** In batches: one check, reset or import can change more users than one statement may carry values. */
export async function recordEvents(db: Db, events: NewEvent[]): Promise<void> {
  await batchedInsert(db, events, (batchDb, batch) => batchDb.insertInto('events').values(batch))
}

export async function recentEvents(db: Db, userName: string, limit: number): Promise<EventRow[]> {
  return db
    .selectFrom('events')
    .selectAll()
    .where('user_name', '=', userName)
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute()
}
