import type {Context} from '../context.js'
import {recordEvents} from '../db/events-repository.js'
import type {Db} from '../db/open-database.js'
import {listUserRecords, updateUser, zeroPeriodUsage} from '../db/users-repository.js'
import {decideStatus, type StatusDecision} from '../domain/decide-status.js'
import {invalidInput} from '../errors.js'
import {requireUser} from '../users/user-service.js'
import {toUserView} from '../domain/user.js'
import {rollToCurrentPeriod} from './quota-service.js'

export interface ResetResult {
  reset: string[]
  /** Users whose status changed because their period count went back to zero. */
  changes: StatusDecision[]
}

/**
 * Starts the current period's count from zero (the daily history stays), and re-activates users who were limited
 * only by this period's usage.
 */
export async function resetUsage(
  db: Db,
  target: {name?: string; all?: boolean},
  context: Context,
): Promise<ResetResult> {
  if (target.name !== undefined && target.all === true) {
    throw invalidInput(
      'INVALID_USAGE',
      `reset of user "${target.name}" and --all together is ambiguous`,
      'give a user name or --all, not both',
    )
  }
  if (target.name === undefined && target.all !== true) {
    throw invalidInput('INVALID_USAGE', 'reset needs a user name or --all', 'sbq reset alice, or sbq reset --all')
  }
  return db.transaction().execute(async (trx) => {
    const records = target.name === undefined ? await listUserRecords(trx) : [await requireUser(trx, target.name)]
    const changes: StatusDecision[] = []
    for (const record of records) {
      const period = await rollToCurrentPeriod(trx, record, context)
      await zeroPeriodUsage(trx, record.id, context.now)
      const view = toUserView(
        {...record, period_start: period.start, period_end: period.end, period_up: 0, period_down: 0},
        context,
      )
      const decision = decideStatus(view, context.now)
      if (decision?.to === 'active') {
        await updateUser(trx, record.id, {status: 'active', status_reason: null, updated_at: context.now})
        changes.push(decision)
      }
    }
    await recordEvents(trx, [
      ...records.map((record) => ({
        at: context.now,
        user_name: record.name,
        kind: 'reset',
        from_status: null,
        to_status: null,
        reason: 'period usage reset to zero',
        actor: context.actor,
      })),
      ...changes.map((change) => ({
        at: context.now,
        user_name: change.user,
        kind: 'status',
        from_status: change.from,
        to_status: change.to,
        reason: 'period usage reset',
        actor: context.actor,
      })),
    ])
    return {reset: records.map((record) => record.name), changes}
  })
}
