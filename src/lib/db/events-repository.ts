import type {Db} from './open-database.js'
import type {EventRow, NewEvent} from './schema.js'

export async function recordEvents(db: Db, events: NewEvent[]): Promise<void> {
  if (events.length > 0) await db.insertInto('events').values(events).execute()
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
