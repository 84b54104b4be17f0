import {hostname} from 'node:os'
import {setTimeout as sleep} from 'node:timers/promises'

import {deleteLock, takeLockOrHolder, takeOverLock} from '../db/check-lock-repository.js'
import type {Db} from '../db/open-database.js'
import {isAlive} from '../process-alive.js'

export interface LockHolder {
  /** The lock found held, e.g. `check:tokyo`. */
  lock: string
  pid: number
  host: string
  acquiredAt: number
}

/** The lock a check holds on one node while it pulls it and puts it in line: hosts on other nodes never wait. */
export function nodeLockName(node: string): string {
  return `check:${node}`
}

/**
 * Takes every named lock, waiting up to `waitMs` for live holders to finish. A holder that died (same host, pid gone)
 * no longer counts, so a crashed run never blocks cron for good. Returns a live holder when it gave up waiting.
 *
 * The locks are taken without waiting, one by one in a fixed order, and a run that finds one held lets go of all it
 * took before it waits: two runs over overlapping sets of nodes can then never hold one lock each and wait for the
 * other's (a run over every node would otherwise stall behind a run over one, and that one behind it).
 */
export async function acquireLocks(db: Db, names: readonly string[], waitMs: number): Promise<LockHolder | null> {
  const ordered = [...new Set(names)].sort()
  const deadline = Date.now() + waitMs
  for (;;) {
    const holder = await takeAll(db, ordered)
    if (holder === null) return null
    if (Date.now() >= deadline) return holder
    await sleep(200)
  }
}

/** One pass over the locks; on a live holder, the locks taken in this pass are let go again. */
async function takeAll(db: Db, ordered: readonly string[]): Promise<LockHolder | null> {
  const me = {pid: process.pid, host: hostname()}
  const taken: string[] = []
  const takenOver = new Set<string>()
  for (let index = 0; index < ordered.length;) {
    const name = ordered[index]!
    // One statement that takes the lock or names its holder (see takeLockOrHolder).
    const row = await takeLockOrHolder(db, name, me, Date.now())
    if (row.pid === me.pid && row.host === me.host) {
      taken.push(name)
      index++
      continue
    }
    // Once per lock and pass: on PostgreSQL the lock is the dead holder's session, which the server ends only when it
    // notices the connection is gone; until then the lock is held, and this run waits as for a live holder.
    if (row.host === me.host && !isAlive(row.pid) && !takenOver.has(name)) {
      takenOver.add(name)
      await takeOverLock(db, name, row, me, Date.now())
      continue
    }
    await releaseLocks(db, taken.reverse())
    return {lock: name, pid: row.pid, host: row.host, acquiredAt: row.acquired_at}
  }
  return null
}

export async function releaseLocks(db: Db, names: readonly string[]): Promise<void> {
  for (const name of names) await deleteLock(db, name, process.pid)
}
