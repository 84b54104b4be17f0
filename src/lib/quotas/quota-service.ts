import type {Context} from '../context.js'
import {recordEvents} from '../db/events-repository.js'
import type {Db} from '../db/open-database.js'
import {insertTopup, setUsagePeriodEnd, startUsagePeriod, updateUser, type UserRecord} from '../db/users-repository.js'
import type {UserUpdate} from '../db/schema.js'
import {invalidInput} from '../errors.js'
import {requirePlan, requireUser} from '../users/user-service.js'
import {iso, limitsOf, toUserView, type UserView} from '../domain/user.js'
import {insertPackage} from '../db/packages-repository.js'
import {currentPeriod, periodWithNewRule, type Period} from '../domain/periods.js'
import {formatResetRule, type ResetRule} from '../domain/reset-rules.js'
import type {FirstUseExpiry} from '../domain/expiry.js'
import {decideStatus} from '../domain/decide-status.js'
import {storedInbounds, type InboundsFlag} from '../domain/inbound-choice.js'
import {pushEverythingAgain} from '../db/node-users-repository.js'
import {assertKnownInboundTags} from '../inbounds/known-tags.js'

export interface QuotaChanges {
  monthlyQuota?: number
  totalQuota?: number
  reset?: ResetRule
  maxIps?: number
  /** null: never expires. */
  expiresAt?: number | null
  /** An expiry that starts on the first counted byte: only for a user who has used none. */
  firstUse?: FirstUseExpiry
  /** null: leave the plan; a name: join it (and take its limits unless others are given here). */
  plan?: string | null
  /** The inbounds the user gets: tags, all, or back to the plan's choice. */
  inbounds?: InboundsFlag
}

export async function setQuota(db: Db, name: string, changes: QuotaChanges, context: Context): Promise<UserView> {
  if (Object.values(changes).every((value) => value === undefined)) {
    throw invalidInput(
      'NOTHING_TO_CHANGE',
      `no change given for user "${name}"`,
      'give at least one of --monthly, --total, --reset, --reset-day, --max-ips, --expires, --plan, --inbounds',
    )
  }
  if (changes.inbounds !== undefined && 'tags' in changes.inbounds)
    await assertKnownInboundTags(db, changes.inbounds.tags)
  await db.transaction().execute(async (trx) => {
    const record = await requireUser(trx, name)
    const update: UserUpdate = {updated_at: context.now}
    if (changes.plan !== undefined) {
      update.plan_id = changes.plan === null ? null : (await requirePlan(trx, changes.plan)).id
      // Joining a plan means taking its limits; limits named in the same command still override them.
      if (changes.plan !== null)
        Object.assign(update, {
          monthly_quota: null,
          total_quota: null,
          reset_day: null,
          reset: null,
          max_ips: null,
          inbounds: null,
        })
    }
    if (changes.inbounds !== undefined) update.inbounds = storedInbounds(changes.inbounds, true)
    if (changes.monthlyQuota !== undefined) update.monthly_quota = changes.monthlyQuota
    if (changes.totalQuota !== undefined) update.total_quota = changes.totalQuota
    if (changes.reset !== undefined) Object.assign(update, {reset: formatResetRule(changes.reset), reset_day: null})
    if (changes.maxIps !== undefined) update.max_ips = changes.maxIps
    if (changes.expiresAt !== undefined)
      Object.assign(update, {expires_at: changes.expiresAt, expires_after: null, first_use_by: null})
    if (changes.firstUse !== undefined) {
      if (record.total_up + record.total_down > 0) {
        throw invalidInput(
          'INVALID_EXPIRY',
          `user "${name}" has already used traffic, so their first use is behind them`,
          `start the clock now instead: sbq quota set ${name} --expires ${changes.firstUse.expiresAfter}`,
        )
      }
      Object.assign(update, {expires_after: changes.firstUse.expiresAfter, first_use_by: changes.firstUse.firstUseBy})
    }
    await updateUser(trx, record.id, update)
    // The nodes put the user on again, on the inbounds the new choice (theirs or the new plan's) gives.
    if (changes.inbounds !== undefined || changes.plan !== undefined) await pushEverythingAgain(trx)
    await followResetRule(trx, record, context)
    await recordEvents(trx, [
      {
        at: context.now,
        user_name: name,
        kind: 'quota',
        from_status: null,
        to_status: null,
        reason: describeChanges(changes),
        actor: context.actor,
      },
    ])
    await reevaluateStatus(trx, name, context)
  })
  return toUserView(await requireUser(db, name), context)
}

export async function topUp(
  db: Db,
  name: string,
  bytes: number,
  note: string | null,
  context: Context,
  /** Set: a traffic package valid until then, kept across periods; unset: a top-up of the current period. */
  validUntil?: number,
): Promise<UserView> {
  if (bytes <= 0)
    throw invalidInput(
      'INVALID_SIZE',
      `top-up of ${bytes} bytes for user "${name}" adds nothing`,
      'give a size above 0, like 10 or 500M',
    )
  await db.transaction().execute(async (trx) => {
    const record = await requireUser(trx, name)
    const period = await rollToCurrentPeriod(trx, record, context)
    if (validUntil === undefined)
      await insertTopup(trx, {
        user_id: record.id,
        period_start: period.start,
        bytes,
        note,
        actor: context.actor,
        created_at: context.now,
      })
    else
      await insertPackage(trx, {
        user_id: record.id,
        bytes,
        valid_until: validUntil,
        note,
        actor: context.actor,
        created_at: context.now,
      })
    await recordEvents(trx, [
      {
        at: context.now,
        user_name: name,
        kind: validUntil === undefined ? 'topup' : 'package',
        from_status: null,
        to_status: null,
        reason: `+${bytes} bytes${validUntil === undefined ? '' : ` valid until ${iso(validUntil)}`}${note ? `: ${note}` : ''}`,
        actor: context.actor,
      },
    ])
    await reevaluateStatus(trx, name, context)
  })
  return toUserView(await requireUser(db, name), context)
}

/** Brings a user's running usage into the period in force now, so writes keyed by period land in the right one. */
export async function rollToCurrentPeriod(
  db: Db,
  record: UserRecord,
  context: Pick<Context, 'now' | 'timeZone'>,
): Promise<Period> {
  const period = currentPeriod(
    {start: record.period_start, end: record.period_end},
    context.now,
    limitsOf(record).reset,
    context.timeZone,
  )
  if (period.start !== record.period_start)
    await startUsagePeriod(db, record.id, record.period_start, period, context.now)
  return period
}

/**
 * After a change that may have moved a user's reset rule (their own, their plan's, or a new plan): the running period
 * keeps its start and what it counted, and ends where the new rule says, so the next reset falls where the operator
 * said.
 */
export async function followResetRule(
  db: Db,
  before: UserRecord,
  context: Pick<Context, 'now' | 'timeZone'>,
): Promise<void> {
  const after = await requireUser(db, before.name)
  const newRule = limitsOf(after).reset
  if (formatResetRule(newRule) === formatResetRule(limitsOf(before).reset)) return
  const running = await rollToCurrentPeriod(db, before, context)
  await setUsagePeriodEnd(
    db,
    after.id,
    periodWithNewRule(running, context.now, newRule, context.timeZone).end,
    context.now,
  )
}

/**
 * New limits take effect at once: a user who is now within them (or over them) changes status here, as `check`
 * would, so the change can go to the nodes in the same command.
 */
async function reevaluateStatus(db: Db, name: string, context: Context): Promise<void> {
  const record = await requireUser(db, name)
  const decision = decideStatus(toUserView(record, context), context.now)
  if (!decision) return
  await updateUser(db, record.id, {
    status: decision.to,
    status_reason: decision.to === 'active' ? null : decision.reason,
    updated_at: context.now,
  })
  await recordEvents(db, [
    {
      at: context.now,
      user_name: name,
      kind: 'status',
      from_status: decision.from,
      to_status: decision.to,
      reason: decision.reason,
      actor: context.actor,
    },
  ])
}

function describeChanges(changes: QuotaChanges): string {
  return Object.entries(changes)
    .filter(([, value]) => value !== undefined)
    .map(
      ([key, value]) =>
        `${key}=${value === null ? 'none' : typeof value === 'object' ? describeFlag(value as InboundsFlag) : value}`,
    )
    .join(' ')
}

function describeFlag(flag: InboundsFlag): string {
  return 'tags' in flag ? flag.tags.join(',') : 'all' in flag ? 'all' : 'plan'
}
