import type {Db} from './open-database.js'

export async function hasInformReceipt(db: Db, nodeId: number, requestId: string): Promise<boolean> {
  const seen = await db
    .selectFrom('inform_receipts')
    .select('request_id')
    .where('node_id', '=', nodeId)
    .where('request_id', '=', requestId)
    .executeTakeFirst()
  return seen !== undefined
}

export async function forgetInformReceiptsBefore(db: Db, before: number): Promise<void> {
  await db.deleteFrom('inform_receipts').where('received_at', '<', before).execute()
}

export async function insertInformReceipt(
  db: Db,
  nodeId: number,
  requestId: string,
  receivedAt: number,
): Promise<void> {
  await db
    .insertInto('inform_receipts')
    .values({node_id: nodeId, request_id: requestId, received_at: receivedAt})
    .execute()
}
