import type {Context} from '../context.js'
import {recentEvents, recordEvents} from '../db/events-repository.js'
import type {Db} from '../db/open-database.js'
import {findPlan} from '../db/plans-repository.js'
import {listPackages} from '../db/packages-repository.js'
import type {UserStatus} from '../db/schema.js'
import {
  deleteUser,
  findUserRecord,
  insertUser,
  nameIgnoringCase,
  listTopups,
  listUserRecords,
  readCredentials,
  updateUser,
  type UserRecord,
} from '../db/users-repository.js'
import {conflict, invalidInput, notFound} from '../errors.js'
import type {UserCredentials} from '../proxies/proxy-driver.js'
import {effectiveLimits} from '../domain/limits.js'
import {currentPeriod} from '../domain/periods.js'
import {formatResetRule, type ResetRule} from '../domain/reset-rules.js'
import type {FirstUseExpiry} from '../domain/expiry.js'
import {userStatuses} from '../db/schema.js'
import {dailySeries, forecastExhaustion} from '../reports/user-usage-history.js'
import {generateCredentials} from './credentials.js'
import {assertUserName} from '../domain/user-name.js'
import {iso, toUserView, type UserView} from '../domain/user.js'
import {storedInbounds, type InboundsFlag} from '../domain/inbound-choice.js'
import {assertKnownInboundTags} from '../inbounds/known-tags.js'

export interface NewUserInput {
  name: string
  monthlyQuota?: number
  totalQuota?: number
  reset?: ResetRule
  maxIps?: number
  expiresAt?: number | null
  /** An expiry that starts on the first counted byte (expiresAt then stays null). */
  firstUse?: FirstUseExpiry
  plan?: string
  note?: string
  uuid?: string
  password?: string
  /** The inbounds the user gets; default the plan's choice, or every managed inbound. */
  inbounds?: InboundsFlag
}

export interface UserWithCredentials extends UserView {
  credentials: UserCredentials
}

export async function addUser(db: Db, input: NewUserInput, context: Context): Promise<UserWithCredentials> {
  const name = assertUserName(input.name)
  const credentials = generateCredentials({uuid: input.uuid, password: input.password})
  if (input.inbounds !== undefined && 'tags' in input.inbounds) await assertKnownInboundTags(db, input.inbounds.tags)
  await db.transaction().execute(async (trx) => {
    if (await findUserRecord(trx, name)) {
      throw conflict('USER_EXISTS', `user "${name}" already exists`, `try: sbq quota set ${name} --monthly 200`)
    }
    const existing = await nameIgnoringCase(trx, name)
    if (existing !== undefined) {
      throw conflict(
        'USER_NAME_CLASH',
        `user "${name}" clashes with the existing user "${existing}": proxies take names that differ only in case for one user`,
        `pick another name, or change "${existing}": sbq quota set ${existing} --monthly 200`,
      )
    }
    const plan = input.plan === undefined ? null : await requirePlan(trx, input.plan)
    const user = {
      monthly_quota: input.monthlyQuota ?? null,
      total_quota: input.totalQuota ?? null,
      reset: input.reset === undefined ? null : formatResetRule(input.reset),
      max_ips: input.maxIps ?? null,
    }
    const limits = effectiveLimits(user, plan)
    const period = currentPeriod(null, context.now, limits.reset, context.timeZone)
    await insertUser(
      trx,
      {
        ...user,
        name,
        status: 'active',
        status_reason: null,
        plan_id: plan?.id ?? null,
        expires_at: input.expiresAt ?? null,
        ...(input.firstUse === undefined
          ? {}
          : {expires_after: input.firstUse.expiresAfter, first_use_by: input.firstUse.firstUseBy}),
        note: input.note ?? null,
        uuid: credentials.uuid,
        password: credentials.password,
        password16: credentials.password16,
        created_at: context.now,
        updated_at: context.now,
        ...(input.inbounds === undefined ? {} : {inbounds: storedInbounds(input.inbounds, true)}),
      },
      period,
    )
    await recordEvents(trx, [
      {
        at: context.now,
        user_name: name,
        kind: 'created',
        from_status: null,
        to_status: 'active',
        reason: null,
        actor: context.actor,
      },
    ])
  })
  const record = await requireUser(db, name)
  return {...toUserView(record, context), credentials}
}

export async function listUsers(db: Db, filter: {status?: string}, context: Context): Promise<UserView[]> {
  if (filter.status !== undefined && !userStatuses.includes(filter.status as UserStatus)) {
    throw invalidInput(
      'INVALID_STATUS',
      `status "${filter.status}" is not a user status`,
      `use one of: ${userStatuses.join(', ')}`,
    )
  }
  const records = await listUserRecords(db, {status: filter.status as UserStatus | undefined})
  return records.map((record) => toUserView(record, context))
}

export interface UserDetail extends UserView {
  credentials?: UserCredentials
  /** The last 30 local days, oldest first, in bytes. */
  last30Days: Array<{day: string; up: number; down: number; total: number}>
  /** When the allowance runs out at the average rate of the last 7 days; null: not this period (or unlimited). */
  forecastExhaustedAt: string | null
  topupHistory: Array<{at: string; bytes: number; periodStart: string; note: string | null}>
  /** Every traffic package bought, newest first, and where each stands now. */
  packages: Array<{
    at: string
    bytes: number
    used: number
    left: number
    validUntil: string
    state: 'open' | 'used up' | 'expired'
    usedUpAt: string | null
    note: string | null
  }>
  events: Array<{
    at: string
    kind: string
    from: string | null
    to: string | null
    reason: string | null
    actor: string
  }>
}

export async function showUser(
  db: Db,
  name: string,
  options: {secrets: boolean},
  context: Context,
): Promise<UserDetail> {
  const record = await requireUser(db, name)
  const [topups, packages, events, last30Days] = await Promise.all([
    listTopups(db, record.id),
    listPackages(db, record.id),
    recentEvents(db, record.name, 20),
    dailySeries(db, record.name, 30, context),
  ])
  const view = toUserView(record, context)
  const last7DaysBytes = last30Days.slice(-7).reduce((sum, day) => sum + day.total, 0)
  return {
    ...view,
    last30Days,
    forecastExhaustedAt: forecastExhaustion({
      periodUsed: view.periodUsed,
      allowance: view.allowance,
      last7DaysBytes,
      periodEnd: view.periodEnd === null ? Number.POSITIVE_INFINITY : Date.parse(view.periodEnd),
      now: context.now,
    }),
    ...(options.secrets ? {credentials: (await readCredentials(db, [record.name])).get(record.name)!} : {}),
    topupHistory: topups.map((topup) => ({
      at: iso(topup.created_at),
      bytes: topup.bytes,
      periodStart: iso(topup.period_start),
      note: topup.note,
    })),
    packages: packages.map((pack) => {
      const state = pack.used_up_at !== null ? 'used up' : pack.valid_until <= context.now ? 'expired' : 'open'
      return {
        at: iso(pack.created_at),
        bytes: pack.bytes,
        used: pack.used,
        left: state === 'open' ? pack.bytes - pack.used : 0,
        validUntil: iso(pack.valid_until),
        state,
        usedUpAt: pack.used_up_at === null ? null : iso(pack.used_up_at),
        note: pack.note,
      }
    }),
    events: events.map((event) => ({
      at: iso(event.at),
      kind: event.kind,
      from: event.from_status,
      to: event.to_status,
      reason: event.reason,
      actor: event.actor,
    })),
  }
}

export async function removeUser(db: Db, name: string, context: Context): Promise<{name: string; removed: true}> {
  await db.transaction().execute(async (trx) => {
    const record = await requireUser(trx, name)
    await deleteUser(trx, record.id)
    await recordEvents(trx, [
      {
        at: context.now,
        user_name: record.name,
        kind: 'removed',
        from_status: record.status,
        to_status: null,
        reason: null,
        actor: context.actor,
      },
    ])
  })
  return {name, removed: true}
}

export interface StatusChange {
  name: string
  from: UserStatus
  to: UserStatus
  changed: boolean
}

/** Hand-made status changes: `disable` parks a user whatever the quotas say; `enable` makes them active again. */
export async function setUserStatus(
  db: Db,
  name: string,
  to: 'active' | 'disabled',
  reason: string | null,
  context: Context,
): Promise<StatusChange> {
  return db.transaction().execute(async (trx) => {
    const record = await requireUser(trx, name)
    if (record.status === to) return {name, from: record.status, to, changed: false}
    await updateUser(trx, record.id, {
      status: to,
      status_reason: to === 'active' ? null : reason,
      updated_at: context.now,
    })
    await recordEvents(trx, [
      {
        at: context.now,
        user_name: name,
        kind: 'status',
        from_status: record.status,
        to_status: to,
        reason,
        actor: context.actor,
      },
    ])
    return {name, from: record.status, to, changed: true}
  })
}

export async function requireUser(db: Db, name: string): Promise<UserRecord> {
  const record = await findUserRecord(db, name)
  if (record) return record
  // Names are looked up exactly: events and usage history are keyed by the stored spelling.
  const other = await nameIgnoringCase(db, name)
  throw notFound(
    'USER_NOT_FOUND',
    `user "${name}" does not exist`,
    other === undefined ? 'see: sbq user list' : `names are exact: did you mean "${other}"? sbq user show ${other}`,
  )
}

export async function requirePlan(db: Db, name: string) {
  const plan = await findPlan(db, name)
  if (!plan)
    throw notFound(
      'PLAN_NOT_FOUND',
      `plan "${name}" does not exist`,
      `see: sbq plan list, or create it: sbq plan add ${name} --monthly 100`,
    )
  return plan
}
