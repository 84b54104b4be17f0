import {readAlertRules} from '../alerts/alert-rules.js'
import {listChannels} from '../alerts/channels.js'
import {deliverPending} from '../alerts/deliver.js'
import {enqueueAlerts} from '../alerts/outbox.js'
import {
  alertStateOf,
  driftAlert,
  dueAlerts,
  maxIpsAlert,
  statusChangeAlert,
  type Alert,
  type AlertRules,
} from '../domain/due-alerts.js'
import {pullNodes, type NodePull} from '../accounting/pull.js'
import type {Context} from '../context.js'
import {hasEventSince, lastStatusChangeAt, recordEvents} from '../db/events-repository.js'
import {listNodes} from '../db/nodes-repository.js'
import type {Db} from '../db/open-database.js'
import {
  findUserRecordsById,
  namesWithMaxIps,
  updateStatusIfStill,
  usersToJudge,
  type JudgeWatch,
  type UserRecord,
} from '../db/users-repository.js'
import {toUserView, type UserView} from '../domain/user.js'
import {acquireLocks, nodeLockName, releaseLocks, type LockHolder} from './check-lock.js'
import {
  decideStatus,
  limitedForSharing,
  maxIpsReason,
  overMaxIps,
  type StatusDecision,
} from '../domain/decide-status.js'
import {countOnlineIps, type OnlineIps} from './online-ips.js'
import {requireNode} from '../nodes/node-service.js'
import {durationSettingMs, settingValue} from '../settings/settings.js'
import type {NodeSync} from './node-sync.js'
import {syncNodes} from './sync-nodes.js'
import {startFirstUseClocks} from '../quotas/first-use.js'

export interface CheckOptions {
  dryRun: boolean
  pull: boolean
  /** How long to wait for another run holding the lock of a node this run needs. */
  lockWaitMs: number
  /**
   * Pull, put in line and ask for online IPs only these nodes (`check --node`); every node when absent. Users are
   * judged on their usage over every node either way: the ledger holds what every host pulled.
   */
  nodes?: readonly string[]
}

export interface CheckAlerts {
  /** Alerts raised for the first time in this run. */
  queued: number
  sent: number
  failed: Array<{channel: string; error: string; alerts: number}>
}

export interface CheckResult {
  changes: StatusDecision[]
  nodes: NodeSync[]
  pulls: NodePull[]
  alerts: CheckAlerts
  /** Users seen on more distinct IPs than their max-ips, on nodes that can tell (Xray). */
  sharing: Array<{user: string; ips: number; maxIps: number}>
  /** Nodes whose online-IP lists could not be read this run. */
  sharingErrors: Array<{node: string; error: string}>
  /** Set when another run held the lock and this one did nothing. */
  skipped: {reason: string} | null
}

/**
 * The cron job: pull every node (or the named ones), decide every user's status, apply the changes to the database
 * and then to those proxies. One run at a time per node: a run holds the lock of each node it pulls and puts in line,
 * so hosts checking different nodes of one database never wait for each other; a run that finds a lock it needs held
 * waits briefly and then leaves it be.
 */
export async function runCheck(db: Db, options: CheckOptions, context: Context): Promise<CheckResult> {
  const nodes = await nodesOfRun(db, options.nodes)
  const locks = options.dryRun ? [] : nodes.map(nodeLockName)
  const holder = locks.length === 0 ? null : await acquireLocks(db, locks, options.lockWaitMs)
  const noAlerts: CheckAlerts = {queued: 0, sent: 0, failed: []}
  if (holder)
    return {
      changes: [],
      nodes: [],
      pulls: [],
      alerts: noAlerts,
      sharing: [],
      sharingErrors: [],
      skipped: {reason: describeHolder(holder, nodes)},
    }
  try {
    const pulls = options.pull && !options.dryRun ? (await pullNodes(db, {only: nodes}, context)).nodes : []
    const sharing = await watchSharing(db, nodes)
    const alerting = options.dryRun ? null : await readAlerting(db, context.now)
    // A first-use deadline that passed without traffic starts the clock, so the expiry is stored where the judging finds it.
    if (!options.dryRun) await db.transaction().execute((trx) => startFirstUseClocks(trx, new Set(), context))
    const ids = await usersToJudge(db, {
      now: context.now,
      ipsSeen: [...sharing.ips.counts.keys()],
      alerts: alerting?.watch ?? null,
    })
    const records = await findUserRecordsById(db, ids)
    const {decisions, views} = decideAll(records, sharing, await sharersLimitedAt(db, records, sharing), context)
    if (!options.dryRun) await applyDecisions(db, decisions, context)
    const synced = await syncNodes(db, {only: nodes, dryRun: options.dryRun}, context)
    const overIps = views.filter((view) => overMaxIps(view, sharing.ips.counts.get(view.name)))
    if (!options.dryRun) await recordSharing(db, overIps, sharing, context)
    const alerts =
      alerting === null
        ? noAlerts
        : await raiseAlerts(
            db,
            alerting.rules,
            views,
            decisions,
            overIps.map((view) => ({view, ips: sharing.ips.counts.get(view.name)!})),
            driftAlerts(pulls, context.now),
            context,
          )
    return {
      changes: decisions.map(({id: _id, ...change}) => change),
      nodes: synced,
      pulls,
      alerts,
      sharing: overIps.map((view) => ({
        user: view.name,
        ips: sharing.ips.counts.get(view.name)!,
        maxIps: view.maxIps!,
      })),
      sharingErrors: sharing.ips.errors,
      skipped: null,
    }
  } finally {
    await releaseLocks(db, locks)
  }
}

/**
 * The names of the nodes a run pulls and puts in line: every node, or the named ones, each of which must exist. The
 * run then touches only these, so a node added meanwhile waits for the next run instead of being changed unlocked.
 */
async function nodesOfRun(db: Db, requested: readonly string[] | undefined): Promise<string[]> {
  if (requested === undefined) return (await listNodes(db)).map((node) => node.name)
  const names = [...new Set(requested)]
  for (const name of names) await requireNode(db, name)
  return names
}

type Decision = StatusDecision & {id: number}

interface Sharing {
  ips: OnlineIps
  enforce: boolean
  cooldownMs: number
}

/** Online IPs of the users who have a max-ips, from the run's nodes that can tell. */
async function watchSharing(db: Db, nodes: readonly string[]): Promise<Sharing> {
  return {
    ips: await countOnlineIps(db, await namesWithMaxIps(db), nodes),
    enforce: (await settingValue(db, 'enforce-max-ips')) === 'on',
    cooldownMs: await durationSettingMs(db, 'max-ips-cooldown'),
  }
}

/** When each user now limited for sharing was limited, for the cool-down; nothing to read when there is none. */
async function sharersLimitedAt(db: Db, records: UserRecord[], sharing: Sharing): Promise<Map<string, number>> {
  if (!sharing.enforce || sharing.cooldownMs === 0) return new Map()
  const sharers = records
    .filter((record) => limitedForSharing({status: record.status, statusReason: record.status_reason}))
    .map((record) => record.name)
  return sharers.length === 0 ? new Map() : lastStatusChangeAt(db, sharers, 'limited')
}

/** The alert rules and what alerts could be due for, when there is somewhere to send them; null without a channel. */
async function readAlerting(
  db: Db,
  now: number,
): Promise<{rules: AlertRules; watch: NonNullable<JudgeWatch['alerts']>} | null> {
  if ((await listChannels(db)).length === 0) return null
  const rules = await readAlertRules(db)
  return {
    rules,
    watch: {
      lowestPercent: rules.thresholds[0] ?? null,
      expiringBefore: rules.expiryDays > 0 ? now + rules.expiryDays * 24 * 60 * 60 * 1000 : null,
    },
  }
}

/** One event per user and period: a sharer seen every minute is one line of history, not thousands. */
async function recordSharing(db: Db, overIps: UserView[], sharing: Sharing, context: Context): Promise<void> {
  const fresh: UserView[] = []
  for (const view of overIps) {
    if (!(await hasEventSince(db, view.name, 'max-ips', Date.parse(view.periodStart)))) fresh.push(view)
  }
  await recordEvents(
    db,
    fresh.map((view) => ({
      at: context.now,
      user_name: view.name,
      kind: 'max-ips',
      from_status: null,
      to_status: null,
      reason: maxIpsReason(sharing.ips.counts.get(view.name)!, view.maxIps!),
      actor: 'check' as const,
    })),
  )
}

function decideAll(
  records: UserRecord[],
  sharing: Sharing,
  limitedAt: Map<string, number>,
  context: Context,
): {decisions: Decision[]; views: UserView[]} {
  const decisions: Decision[] = []
  const views: UserView[] = []
  for (const record of records) {
    const view = toUserView(record, context)
    views.push(view)
    const since = limitedAt.get(view.name)
    const decision = decideStatus(view, context.now, {
      ipsSeen: sharing.ips.counts.get(view.name),
      enforceMaxIps: sharing.enforce,
      ...(since === undefined ? {} : {coolingDownUntil: since + sharing.cooldownMs}),
    })
    if (decision) decisions.push({...decision, id: record.id})
  }
  return {decisions, views}
}

/**
 * Raises what people must hear about (thresholds, expiry soon, status changes) and delivers the outbox, including
 * what earlier runs could not deliver. Raising is idempotent per user, kind and period; delivery never throws.
 */
async function raiseAlerts(
  db: Db,
  rules: AlertRules,
  views: UserView[],
  decisions: StatusDecision[],
  overIps: Array<{view: UserView; ips: number}>,
  drifts: Alert[],
  context: Context,
): Promise<CheckAlerts> {
  const states = new Map(
    views.filter((view) => view.status !== 'disabled').map((view) => [view.name, alertStateOf(view)]),
  )
  const alerts = dueAlerts([...states.values()], rules, context.now)
  for (const decision of decisions) {
    const state = states.get(decision.user)
    if (!state) continue
    const kind =
      decision.to === 'active'
        ? 're-enabled'
        : decision.to === 'limited'
          ? 'limited'
          : decision.to === 'expired'
            ? 'expired'
            : null
    if (kind) alerts.push(statusChangeAlert(kind, state, context.now))
  }
  for (const {view, ips} of overIps) alerts.push(maxIpsAlert(alertStateOf(view), view.maxIps!, ips, context.now))
  alerts.push(...drifts)
  const queued = await enqueueAlerts(db, alerts, context)
  const report = await deliverPending(db, context)
  return {
    queued,
    sent: report.sent,
    failed: report.failed.map((failure) => ({channel: failure.label, error: failure.error, alerts: failure.alerts})),
  }
}

/** Nodes that counted far less today than their host interface carried. */
function driftAlerts(pulls: NodePull[], now: number): Alert[] {
  return pulls.flatMap(({name, drift}) =>
    drift?.drifting
      ? [
          driftAlert(
            {
              node: name,
              hostInterface: drift.interface,
              thresholdPercent: drift.thresholdPercent!,
              countedBytes: drift.countedBytes,
              interfaceBytes: drift.interfaceBytes,
            },
            drift.dayStart,
            now,
          ),
        ]
      : [],
  )
}

async function applyDecisions(db: Db, decisions: Decision[], context: Context): Promise<void> {
  if (decisions.length === 0) return
  await db.transaction().execute(async (trx) => {
    const applied: Decision[] = []
    for (const decision of decisions) {
      // A status someone changed since it was judged (say, a hand disable) is left as they set it.
      const change = {
        status: decision.to,
        status_reason: decision.to === 'active' ? null : decision.reason,
        updated_at: context.now,
      }
      if (await updateStatusIfStill(trx, decision.id, decision.from, change)) applied.push(decision)
    }
    await recordEvents(
      trx,
      applied.map((decision) => ({
        at: context.now,
        user_name: decision.user,
        kind: 'status',
        from_status: decision.from,
        to_status: decision.to,
        reason: decision.reason,
        actor: 'check' as const,
      })),
    )
  })
}

function describeHolder(holder: LockHolder, nodes: readonly string[]): string {
  const node = nodes.find((name) => nodeLockName(name) === holder.lock)
  return `another sbq check (pid ${holder.pid} on ${holder.host}, since ${new Date(holder.acquiredAt).toISOString()}) holds the lock of node "${node ?? holder.lock}"`
}
