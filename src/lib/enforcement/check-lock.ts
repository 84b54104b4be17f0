import {hostname} from 'node:os'
import {setTimeout as sleep} from 'node:timers/promises'

import {deleteLock, takeLockOrHolder, takeOverLock} from '../db/check-lock-repository.js'
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
    // One statement that takes the lock or names its holder (see takeLockOrHolder).
    const row = await takeLockOrHolder(db, name, me, Date.now())
    if (row.pid === me.pid && row.host === me.host) return null
    if (row.host === me.host && !isAlive(row.pid)) {
      await takeOverLock(db, name, row, me, Date.now())
      continue
    }
    if (Date.now() >= deadline) return {pid: row.pid, host: row.host, acquiredAt: row.acquired_at}
    await sleep(200)
  }
}

export async function releaseLock(db: Db, name: string): Promise<void> {
  await deleteLock(db, name, process.pid)
}
