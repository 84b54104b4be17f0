import type {Context} from '../context.js'
import {recordEvents} from '../db/events-repository.js'
import type {Db} from '../db/open-database.js'
import {startExpiryClock, usersWaitingForFirstUse} from '../db/users-repository.js'
import {expiryFromFirstUse} from '../domain/expiry.js'
import {iso} from '../domain/user.js'

/**
 * Starts the expiry clocks of users created with `--from first-use`: for those among `usedIds` (their first counted
 * bytes, in the pull's transaction) at `now`, and for any whose `--first-use-by` deadline has passed at that deadline.
 * Returns the names whose clock started.
 */
export async function startFirstUseClocks(
  db: Db,
  usedIds: ReadonlySet<number>,
  context: Pick<Context, 'now' | 'timeZone' | 'actor'>,
): Promise<string[]> {
  const started: string[] = []
  for (const user of await usersWaitingForFirstUse(db)) {
    const pending = {expiresAfter: user.expires_after, firstUseBy: user.first_use_by}
    const overdue = user.first_use_by !== null && user.first_use_by <= context.now
    if (!usedIds.has(user.id) && !overdue) continue
    const expiresAt = expiryFromFirstUse(pending, context.now, context.timeZone)
    if (!(await startExpiryClock(db, user.id, expiresAt, context.now))) continue
    started.push(user.name)
    await recordEvents(db, [
      {
        at: context.now,
        user_name: user.name,
        kind: 'first-use',
        from_status: null,
        to_status: null,
        reason: `${usedIds.has(user.id) ? 'first traffic' : 'no traffic by the first-use deadline'}: expires ${iso(expiresAt)} (${user.expires_after})`,
        actor: context.actor,
      },
    ])
  }
  return started
}
