import type {Db} from '../db/open-database.js'
import {
  closeDailyUsage,
  lockClosingOfDays,
  oldestManagedDay,
  readClosedThrough,
  writeClosedThrough,
} from '../db/usage-repository.js'
import {monthPieces, shiftDay} from '../domain/day-keys.js'

/**
 * Sums every day before `today` that is not yet closed into the monthly closed sums, inside the caller's
 * transaction, and returns the last closed day. The first write of each local day pays for it (one read of
 * yesterday's rows, which sit together); every other call costs a tiny read (on PostgreSQL also a shared lock, see
 * lockClosingOfDays, and a second read).
 */
export async function closePastDays(trx: Db, today: string): Promise<string | null> {
  const yesterday = shiftDay(today, -1)
  const open = (through: string | null) => through === null || through < yesterday
  // Read again once the lock is held: the host that held it before may have closed the same days meanwhile, and
  // then this one has nothing to close (instead of repeating the work only to fail the compare-and-set below).
  await lockClosingOfDays(trx, open(await readClosedThrough(trx)) ? 'exclusive' : 'shared')
  const closedThrough = await readClosedThrough(trx)
  if (!open(closedThrough)) return closedThrough
  const fromDay = closedThrough === null ? await oldestManagedDay(trx) : shiftDay(closedThrough, 1)
  if (fromDay !== undefined) for (const piece of monthPieces(fromDay, today)) await closeDailyUsage(trx, piece)
  await writeClosedThrough(trx, closedThrough, yesterday)
  return yesterday
}
