import {copyFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {openDatabase} from '../../src/lib/db/open-database.js'
import {defaultResetRule} from '../../src/lib/domain/reset-rules.js'
import {currentPeriod} from '../../src/lib/domain/periods.js'
import {monthlyLimitReason} from '../../src/lib/domain/decide-status.js'
import {installTimeZone} from '../../src/lib/settings/settings.js'

export const GiB = 1024 ** 3

const defaultQuota = 100 * GiB

/** How one dialect fills a freshly migrated database with a seed plan's rows, and stages the 1% scenario. */
export interface Seeder {
  seed(location: string, plan: SeedPlan): Promise<void>
  /**
   * Before each run of "check, 1% cross quota": every hundredth user active, on the node, in the config, and over
   * their monthly quota, so that run limits 1% of users, rewrites the config and removes them live.
   */
  putOnePercentOverQuota(target: {db: string; dir: string}): Promise<void>
  /**
   * Before each run of "check, month boundary": every tenth user limited for their monthly allowance (used up in the
   * stored period), off the node and out of the config, so a run at the next month enables them again all at once.
   */
  putTenthLimitedAtMonthEnd(target: {db: string; dir: string}): Promise<void>
}

/** The users the month-boundary scenario limits: every tenth. */
export const tenthLimitedEvery = 10

/** One V2Ray-type node of the seeded database. */
export interface SeedNode {
  name: string
  /** host:port of its API (a stub). */
  api: string
}

export interface SeedOptions {
  users: number
  /**
   * The nodes, each carrying every user (as sbq puts every active user on every node), with the daily rows of
   * last month split between them in order: node k of n has users k·N/n+1 … (k+1)·N/n. Default: one node "bench"
   * at `nodeApi`.
   */
  nodes?: SeedNode[]
  /** host:port of the one node when `nodes` is not given. */
  nodeApi?: string
  /** Where each node's V2Ray config (every user in one vmess inbound) is written. */
  dir: string
  monthlyQuota?: number
}

/**
 * What every dialect's seed writes, row for row: the database as `sbq user add` x N and `sbq node add` would leave
 * it (active, a monthly quota, a running-usage row opened at the current period, on every node) plus a month of daily
 * rows, minus the per-user "created" event, which no benchmarked command reads in bulk.
 */
export interface SeedPlan {
  users: number
  nodes: Array<SeedNode & {id: number; configPath: string}>
  quota: number
  now: number
  period: {start: number; end: number}
  /** The days of last month (`report --month` reads a whole month of daily rows). */
  days: string[]
}

/** sbq's own migrations make the schema (so the seed never drifts from it); the plan says what goes in. */
export async function planSeed(location: string, options: SeedOptions): Promise<SeedPlan> {
  const db = await openDatabase(location)
  const now = Date.now()
  let period: {start: number; end: number}
  try {
    period = currentPeriod(null, now, defaultResetRule, await installTimeZone(db))
  } finally {
    await db.destroy()
  }
  const nodes = options.nodes ?? [{name: 'bench', api: requireApi(options.nodeApi)}]
  const month = reportMonth()
  const dayCount = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 0)).getUTCDate()
  return {
    users: options.users,
    nodes: nodes.map((node, index) => ({...node, id: index + 1, configPath: nodeConfigPath(options.dir, node.name)})),
    quota: options.monthlyQuota ?? defaultQuota,
    now,
    period,
    days: Array.from({length: dayCount}, (_, day) => `${month}-${String(day + 1).padStart(2, '0')}`),
  }
}

function requireApi(api: string | undefined): string {
  if (api === undefined) throw new Error('seed: give nodeApi or nodes')
  return api
}

/** The node whose daily rows user `index` (1-based) has: the users split in order between the nodes. */
export function nodeOfUser(plan: SeedPlan, index: number): string {
  const perNode = Math.ceil(plan.users / plan.nodes.length)
  return plan.nodes[Math.min(plan.nodes.length - 1, Math.floor((index - 1) / perNode))]!.name
}

export interface SeedUser {
  id: number
  name: string
  uuid: string
  password: string
  password16: string
}

/** Credentials are never used by the benchmarked commands; deterministic values keep databases comparable. */
export function seedUser(index: number): SeedUser {
  const secret = Buffer.alloc(32, index % 256).toString('base64')
  return {id: index, name: `user${index}`, uuid: indexUuid(index), password: secret, password16: secret.slice(0, 24)}
}

/** A daily row's traffic: the same figures on every dialect. */
export function dailyUp(index: number): number {
  return 1000 + index
}

export function dailyDown(day: number): number {
  return 50_000 + day
}

/** The calendar month before this one: `report --month` reads a whole month of daily rows. */
export function reportMonth(now = new Date()): string {
  const previous = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1))
  return previous.toISOString().slice(0, 7)
}

export function nodeConfigPath(dir: string, node: string): string {
  return join(dir, `${node}.v2ray.json`)
}

/**
 * Each node's V2Ray config with every user, a pristine copy that putOnePercentOverQuota restores, and one without
 * every tenth user that putTenthLimitedAtMonthEnd puts in place.
 */
export function writeNodeConfigs(plan: SeedPlan): void {
  const clients = Array.from({length: plan.users}, (_, index) => {
    const user = seedUser(index + 1)
    return {id: user.uuid, email: user.name, level: 0, alterId: 0}
  })
  const text = JSON.stringify(v2rayConfig(clients), null, 2)
  const withoutTenth = JSON.stringify(
    v2rayConfig(clients.filter((_, index) => (index + 1) % tenthLimitedEvery !== 0)),
    null,
    2,
  )
  for (const node of plan.nodes) {
    writeFileSync(node.configPath, text)
    copyFileSync(node.configPath, `${node.configPath}.pristine`)
    writeFileSync(`${node.configPath}.tenth-off`, withoutTenth)
  }
}

/** Puts a node's config back as seeded (`pristine`), or as seeded without every tenth user (`tenth-off`). */
export function restoreNodeConfig(dir: string, node: string, version: 'pristine' | 'tenth-off' = 'pristine'): void {
  const path = nodeConfigPath(dir, node)
  copyFileSync(`${path}.${version}`, path)
}

/** Download the over-quota scenarios put in a user's period: twice the default monthly quota. */
export const overQuotaDown = 200 * GiB

/** The status reason of a user the month-boundary scenario limits, as `sbq check` would have written it. */
export const tenthLimitReason = `${monthlyLimitReason}: ${overQuotaDown} of ${defaultQuota} bytes`

function indexUuid(index: number): string {
  const hex = index.toString(16).padStart(12, '0')
  return `00000000-0000-4000-8000-${hex}`
}

export const inboundTag = 'vmess-in'

function v2rayConfig(clients: unknown[]) {
  return {
    stats: {},
    api: {tag: 'api', services: ['StatsService', 'HandlerService']},
    policy: {levels: {'0': {statsUserUplink: true, statsUserDownlink: true}}},
    inbounds: [
      {tag: 'api', listen: '127.0.0.1', port: 10085, protocol: 'dokodemo-door', settings: {address: '127.0.0.1'}},
      {tag: inboundTag, listen: '127.0.0.1', port: 10086, protocol: 'vmess', settings: {clients}},
    ],
    outbounds: [{protocol: 'freedom'}],
    routing: {rules: [{type: 'field', inboundTag: ['api'], outboundTag: 'api'}]},
  }
}
