import {hostname} from 'node:os'
import {setTimeout as sleep} from 'node:timers/promises'

import type {Db} from '../db/open-database.js'
import {isAlive} from '../process-alive.js'

export interface LockHolder {
  pid: number
  host: string
  acquiredAt: number
}

/**
 * Takes the named lock, waiting up to `waitMs` for a live holder to finish. A holder that died (same host, pid gone)
 * no longer counts, so a crashed run never blocks cron for good. Returns the live holder when it gave up waiting.
 */
export async function acquireLock(db: Db, name: string, waitMs: number): Promise<LockHolder | null> {
  const deadline = Date.now() + waitMs
  const me = {pid: process.pid, host: hostname()}
  for (;;) {
    // One statement that takes the lock or names its holder: an insert-or-ignore followed by a separate read found no
    // row when the holder let go in between. The no-op update makes RETURNING give the holder's row on a conflict.
    const row = await db
      .insertInto('locks')
      .values({name, ...me, acquired_at: Date.now()})
      .onConflict((oc) => oc.column('name').doUpdateSet({name: (eb) => eb.ref('locks.name')}))
      .returningAll()
      .executeTakeFirstOrThrow()
    if (row.pid === me.pid && row.host === me.host) return null
    if (row.host === me.host && !isAlive(row.pid)) {
      await db.updateTable('locks').set({...me, acquired_at: Date.now()}).where('name', '=', name).where('pid', '=', row.pid).where('host', '=', row.host).execute()
      continue
    }
    if (Date.now() >= deadline) return {pid: row.pid, host: row.host, acquiredAt: row.acquired_at}
    await sleep(200)
  }
}

export async function releaseLock(db: Db, name: string): Promise<void> {
  await db.deleteFrom('locks').where('name', '=', name).where('pid', '=', process.pid).execute()
}
