import type {Context} from '../context.js'
import {recordEvents} from '../db/events-repository.js'
import type {Db} from '../db/open-database.js'
import {openPackagesByUser, spendFromPackages} from '../db/packages-repository.js'
import {findUserRecordsById} from '../db/users-repository.js'
import {bytesPastAllowance, spendPackages} from '../domain/traffic-packages.js'
import {toUserView} from '../domain/user.js'

/**
 * Spends the bytes a pull counted past each user's period allowance from their traffic packages, in the pull's
 * transaction (after the running totals took the bytes). Reads nothing more when nobody has a package with bytes left.
 * Two pulls of one user's bytes (two nodes, two hosts) cannot spend the same package bytes twice: the running-total
 * update before this holds the user's row until commit, so the second pull's reads here come after the first's writes.
 */
export async function spendTrafficPackages(
  db: Db,
  increments: ReadonlyArray<{user_id: number; up: number; down: number}>,
  context: Pick<Context, 'now' | 'timeZone' | 'actor'>,
): Promise<void> {
  const open = await openPackagesByUser(db)
  if (open.size === 0) return
  const counted = increments.filter((increment) => open.has(increment.user_id))
  if (counted.length === 0) return
  const records = await findUserRecordsById(
    db,
    counted.map((increment) => increment.user_id),
  )
  const bytesOf = new Map(counted.map((increment) => [increment.user_id, increment.up + increment.down]))
  for (const record of records) {
    const view = toUserView(record, context)
    if (view.monthlyQuota === 0) continue
    const past = bytesPastAllowance(view.periodUsed - bytesOf.get(record.id)!, view.periodUsed, view.allowance)
    if (past === 0) continue
    const packages = open.get(record.id)!
    const spent = spendPackages(packages, past, context.now).map((pack) => ({
      ...pack,
      usedUp: pack.used === packages.find((candidate) => candidate.id === pack.id)!.bytes,
    }))
    await spendFromPackages(db, spent, context.now)
    const usedUp = spent.filter((pack) => pack.usedUp).length
    if (usedUp > 0)
      await recordEvents(db, [
        {
          at: context.now,
          user_name: record.name,
          kind: 'package',
          from_status: null,
          to_status: null,
          reason: `${usedUp} traffic package${usedUp === 1 ? '' : 's'} used up`,
          actor: context.actor,
        },
      ])
  }
}
