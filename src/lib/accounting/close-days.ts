import type {Db} from '../db/open-database.js'
import {closeDailyUsage, oldestManagedDay, readClosedThrough, writeClosedThrough} from '../db/usage-repository.js'
import {monthPieces, shiftDay} from '../domain/day-keys.js'

/**
 * Sums every day before `today` that is not yet closed into the monthly closed sums, inside the caller's
 * transaction, and returns the last closed day. The first write of each local day pays for it (one read of
 * yesterday's rows, which sit together); every other call costs one tiny read.
 */
export async function closePastDays(trx: Db, today: string): Promise<string | null> {
  const closedThrough = await readClosedThrough(trx)
  const yesterday = shiftDay(today, -1)
  if (closedThrough !== null && closedThrough >= yesterday) return closedThrough
  const fromDay = closedThrough === null ? await oldestManagedDay(trx) : shiftDay(closedThrough, 1)
  if (fromDay !== undefined) for (const piece of monthPieces(fromDay, today)) await closeDailyUsage(trx, piece)
  await writeClosedThrough(trx, closedThrough, yesterday)
  return yesterday
}
