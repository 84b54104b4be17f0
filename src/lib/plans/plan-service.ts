import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {
  countUsersOnPlan,
  deletePlan,
  findPlan,
  insertPlan,
  listPlansWithUserCounts,
  updatePlan,
} from '../db/plans-repository.js'
import type {PlanRow} from '../db/schema.js'
import {conflict, invalidInput} from '../errors.js'
import {defaultResetText} from '../domain/limits.js'
import {formatResetRule, monthlyResetDay, storedResetRule, type ResetRule} from '../domain/reset-rules.js'
import {assertPlanName} from '../domain/user-name.js'
import {iso} from '../domain/user.js'
import {requirePlan} from '../users/user-service.js'
import {listUserRecords} from '../db/users-repository.js'
import {followResetRule} from '../quotas/quota-service.js'
import {storedInbounds, type InboundsFlag} from '../domain/inbound-choice.js'
import {inboundsOf} from '../domain/user.js'
import {pushEverythingAgain} from '../db/node-users-repository.js'
import {assertKnownInboundTags} from '../inbounds/known-tags.js'

export interface PlanInput {
  monthlyQuota?: number
  totalQuota?: number
  reset?: ResetRule
  maxIps?: number
  /** The inbounds its users get (those without a choice of their own): tags, or all. */
  inbounds?: InboundsFlag
}

export interface PlanView {
  name: string
  monthlyQuota: number
  totalQuota: number
  /** Its reset rule (`monthly:1`, `weekly:mon`, ...). */
  reset: string
  /** The day of the month its periods start on under a monthly rule; null under any other. */
  resetDay: number | null
  maxIps: number | null
  /** The inbound tags its users get; null: every managed inbound. */
  inbounds: string[] | null
  users: number
  createdAt: string
}

/** Plans made before reset rules have only a reset day. */
function planRule(plan: PlanRow): ResetRule {
  return storedResetRule(plan.reset ?? `monthly:${plan.reset_day}`)
}

/** The rule as stored; reset_day, which older sbq versions read, keeps the monthly day (1 under other rules). */
function storedPlanRule(rule: ResetRule): {reset: string; reset_day: number} {
  return {reset: formatResetRule(rule), reset_day: monthlyResetDay(rule) ?? 1}
}

function toPlanView(plan: PlanRow, users: number): PlanView {
  return {
    name: plan.name,
    monthlyQuota: plan.monthly_quota,
    totalQuota: plan.total_quota,
    reset: formatResetRule(planRule(plan)),
    resetDay: monthlyResetDay(planRule(plan)),
    maxIps: plan.max_ips,
    inbounds: inboundsOf({plan_inbounds: plan.inbounds}),
    users,
    createdAt: iso(plan.created_at),
  }
}

export async function addPlan(db: Db, name: string, input: PlanInput, context: Context): Promise<PlanView> {
  assertPlanName(name)
  if (await findPlan(db, name))
    throw conflict('PLAN_EXISTS', `plan "${name}" already exists`, `change it with: sbq plan set ${name} --monthly 200`)
  if (input.inbounds !== undefined && 'tags' in input.inbounds) await assertKnownInboundTags(db, input.inbounds.tags)
  const plan = await insertPlan(db, {
    name,
    inbounds: input.inbounds === undefined ? null : storedInbounds(input.inbounds, false),
    monthly_quota: input.monthlyQuota ?? 0,
    total_quota: input.totalQuota ?? 0,
    ...storedPlanRule(input.reset ?? storedResetRule(defaultResetText)),
    max_ips: input.maxIps ?? null,
    created_at: context.now,
  })
  return toPlanView(plan, 0)
}

/** Changes a plan's limits; every user on it who has no override of their own takes the new ones. */
export async function setPlan(
  db: Db,
  name: string,
  input: PlanInput,
  context: Pick<Context, 'now' | 'timeZone'>,
): Promise<PlanView> {
  if (Object.values(input).every((value) => value === undefined)) {
    throw invalidInput(
      'NOTHING_TO_CHANGE',
      `no change given for plan "${name}"`,
      'give at least one of --monthly, --total, --reset, --reset-day, --max-ips, --inbounds',
    )
  }
  const plan = await requirePlan(db, name)
  if (input.inbounds !== undefined && 'tags' in input.inbounds) await assertKnownInboundTags(db, input.inbounds.tags)
  const followers =
    input.reset === undefined
      ? []
      : (await listUserRecords(db)).filter((record) => record.plan_id === plan.id && record.reset === null)
  await db.transaction().execute(async (trx) => {
    await updatePlan(trx, plan.id, {
      ...(input.monthlyQuota === undefined ? {} : {monthly_quota: input.monthlyQuota}),
      ...(input.totalQuota === undefined ? {} : {total_quota: input.totalQuota}),
      ...(input.reset === undefined ? {} : storedPlanRule(input.reset)),
      ...(input.maxIps === undefined ? {} : {max_ips: input.maxIps}),
      ...(input.inbounds === undefined ? {} : {inbounds: storedInbounds(input.inbounds, false)}),
    })
    // Its followers go on the nodes again, on the inbounds the plan now gives.
    if (input.inbounds !== undefined) await pushEverythingAgain(trx)
  })
  for (const record of followers) await followResetRule(db, record, context)
  return (await listPlans(db)).find((view) => view.name === name)!
}

export async function listPlans(db: Db): Promise<PlanView[]> {
  return (await listPlansWithUserCounts(db)).map((plan) => toPlanView(plan, plan.users))
}

export async function removePlan(db: Db, name: string): Promise<{name: string; removed: true}> {
  const plan = await requirePlan(db, name)
  const users = await countUsersOnPlan(db, plan.id)
  if (users > 0) {
    throw conflict(
      'PLAN_IN_USE',
      `plan "${name}" still has ${users} user${users === 1 ? '' : 's'}`,
      `move them first: sbq quota set NAME --plan OTHER (or --plan none)`,
    )
  }
  await deletePlan(db, plan.id)
  return {name, removed: true}
}
