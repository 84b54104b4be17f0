import type {Db} from './database.js'
import type {LockOwner} from './dialect.js'
import {dialectOf} from './dialects.js'
import type {LockRow} from './schema.js'

export type {LockOwner} from './dialect.js'

/** Takes the named lock for `owner`, or names its holder: the row returned is the lock's holder either way. */
export async function takeLockOrHolder(db: Db, name: string, owner: LockOwner, at: number): Promise<LockRow> {
  return dialectOf(db).takeLockOrHolder(db, name, owner, at)
}

/** Hands the lock from a dead `holder` to `owner`, unless `holder` no longer has it. */
export async function takeOverLock(
  db: Db,
  name: string,
  holder: LockOwner,
  owner: LockOwner,
  at: number,
): Promise<void> {
  await dialectOf(db).takeOverLock(db, name, holder, owner, at)
}

export async function deleteLock(db: Db, name: string, pid: number): Promise<void> {
  await dialectOf(db).releaseLock(db, name, pid)
}
