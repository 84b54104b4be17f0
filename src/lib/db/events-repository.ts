import {batchedInsert} from './batched-upsert.js'
import type {Db} from './open-database.js'
import type {EventRow, NewEvent, UserStatus} from './schema.js'

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

/** Whether a user has an event of this kind at or after `since`. */
export async function hasEventSince(db: Db, userName: string, kind: string, since: number): Promise<boolean> {
  const earlier = await db
    .selectFrom('events')
    .select('id')
    .where('user_name', '=', userName)
    .where('kind', '=', kind)
    .where('at', '>=', since)
    .executeTakeFirst()
  return earlier !== undefined
}

/** Names per `IN (...)` list: well under every SQLite build's limit on bound parameters. */
const namesPerQuery = 500

/** When each of these users last changed to `status`; users who never did are left out. */
export async function lastStatusChangeAt(
  db: Db,
  names: readonly string[],
  status: UserStatus,
): Promise<Map<string, number>> {
  const found = new Map<string, number>()
  for (let offset = 0; offset < names.length; offset += namesPerQuery) {
    const rows = await db
      .selectFrom('events')
      .select(['user_name'])
      .select((eb) => eb.fn.max('at').as('at'))
      .where('kind', '=', 'status')
      .where('to_status', '=', status)
      .where('user_name', 'in', names.slice(offset, offset + namesPerQuery))
      .groupBy('user_name')
      .execute()
    for (const row of rows) found.set(row.user_name, Number(row.at))
  }
  return found
}
