import type {Db} from './open-database.js'
import type {LockRow} from './schema.js'

/** Who holds (or asks for) a lock: a process on a host. */
export interface LockOwner {
  pid: number
  host: string
}

/**
 * Takes the named lock for `owner`, or names its holder: the row returned is the lock's holder either way. One
 * statement that takes the lock or names its holder: an insert-or-ignore followed by a separate read found no row
 * when the holder let go in between. The no-op update makes RETURNING give the holder's row on a conflict.
 */
export async function takeLockOrHolder(db: Db, name: string, owner: LockOwner, at: number): Promise<LockRow> {
  return db
    .insertInto('locks')
    .values({name, pid: owner.pid, host: owner.host, acquired_at: at})
    .onConflict((oc) => oc.column('name').doUpdateSet({name: (eb) => eb.ref('locks.name')}))
    .returningAll()
    .executeTakeFirstOrThrow()
}

/** Hands the lock from `holder` to `owner`, unless `holder` no longer has it. */
export async function takeOverLock(
  db: Db,
  name: string,
  holder: LockOwner,
  owner: LockOwner,
  at: number,
): Promise<void> {
  await db
    .updateTable('locks')
    .set({pid: owner.pid, host: owner.host, acquired_at: at})
    .where('name', '=', name)
    .where('pid', '=', holder.pid)
    .where('host', '=', holder.host)
    .execute()
}

export async function deleteLock(db: Db, name: string, pid: number): Promise<void> {
  await db.deleteFrom('locks').where('name', '=', name).where('pid', '=', pid).execute()
}
