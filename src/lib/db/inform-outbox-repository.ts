import type {Db} from './open-database.js'
import type {InformPushRow} from './schema.js'

export async function insertInformPush(
  db: Db,
  nodeId: number,
  requestId: string,
  body: string,
  createdAt: number,
): Promise<void> {
  await db
    .insertInto('inform_outbox')
    .values({node_id: nodeId, request_id: requestId, body, created_at: createdAt, last_error: null})
    .execute()
}

/** A node's queued pushes, oldest first, at most `limit`. */
export async function oldestInformPushes(db: Db, nodeId: number, limit: number): Promise<InformPushRow[]> {
  return db.selectFrom('inform_outbox').selectAll().where('node_id', '=', nodeId).orderBy('id').limit(limit).execute()
}

export async function recordInformPushFailure(db: Db, id: number, error: string): Promise<void> {
  await db
    .updateTable('inform_outbox')
    .set((eb) => ({attempts: eb('attempts', '+', 1), last_error: error}))
    .where('id', '=', id)
    .execute()
}

export async function deleteInformPush(db: Db, id: number): Promise<void> {
  await db.deleteFrom('inform_outbox').where('id', '=', id).execute()
}

export async function countInformPushes(db: Db, nodeId: number): Promise<number> {
  const left = await db
    .selectFrom('inform_outbox')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('node_id', '=', nodeId)
    .executeTakeFirstOrThrow()
  return Number(left.count)
}

/** How many pushes each node has queued; nodes with none are left out. */
export async function informPushesByNode(db: Db): Promise<Map<number, number>> {
  const queued = await db
    .selectFrom('inform_outbox')
    .select(['node_id', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy('node_id')
    .execute()
  return new Map(queued.map((row) => [row.node_id, Number(row.count)]))
}
