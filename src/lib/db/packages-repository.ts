import type {OpenPackage} from '../domain/traffic-packages.js'
import {atSchemaBeforeNameClashCheck} from './migrate.js'
import type {Db} from './open-database.js'
import type {Actor, TrafficPackageRow} from './schema.js'

export async function insertPackage(
  db: Db,
  pack: {user_id: number; bytes: number; valid_until: number; note: string | null; actor: Actor; created_at: number},
): Promise<void> {
  await db.insertInto('traffic_packages').values(pack).execute()
}

/**
 * Packages with bytes left, by user (all users, or those given), through the open-package index. Ones past their
 * validity are among them until read with a `now` (domain/traffic-packages.ts decides).
 */
export async function openPackagesByUser(db: Db, userIds?: readonly number[]): Promise<Map<number, OpenPackage[]>> {
  let query = db
    .selectFrom('traffic_packages')
    .select(['id', 'user_id', 'bytes', 'used', 'valid_until'])
    .where('used_up_at', 'is', null)
  if (userIds !== undefined) query = query.where('user_id', 'in', userIds)
  const byUser = new Map<number, OpenPackage[]>()
  for (const row of await query.execute()) {
    const list = byUser.get(row.user_id) ?? []
    list.push({id: row.id, bytes: Number(row.bytes), used: Number(row.used), valid_until: Number(row.valid_until)})
    byUser.set(row.user_id, list)
  }
  return byUser
}

/** Every package a user bought, newest first: their history (none at a schema before packages). */
export async function listPackages(db: Db, userId: number): Promise<TrafficPackageRow[]> {
  if (atSchemaBeforeNameClashCheck(db)) return []
  return db
    .selectFrom('traffic_packages')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute()
}

/** Records what a pull spent from packages; one used to its last byte is closed. */
export async function spendFromPackages(
  db: Db,
  spent: ReadonlyArray<{id: number; used: number; usedUp: boolean}>,
  now: number,
): Promise<void> {
  for (const pack of spent)
    await db
      .updateTable('traffic_packages')
      .set({used: pack.used, ...(pack.usedUp ? {used_up_at: now} : {})})
      .where('id', '=', pack.id)
      .execute()
}
