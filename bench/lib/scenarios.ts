import type {DialectName} from './bench-dialects.js'

/** What a scenario's setup gets: everything about the database and node one size runs against. */
export interface BenchTarget {
  /** How many users the database holds (user1..userN, all also known to the stub). */
  size: number
  dialect: DialectName
  /** The SQLite file or the postgres:// URL. */
  db: string
  /** The size's temp directory, removed afterwards; a scenario may keep scratch files here. */
  dir: string
  /** host:port of the stub's gRPC API, as stored in the node row. */
  stubAddress: string
}

export interface Scenario {
  name: string
  args: string[]
  /** Runs untimed before every run, warm-up included, e.g. to put the same 1% of users back near their quota. */
  setup?: (target: BenchTarget) => Promise<void>
  /** Median wall time sbq must stay under with 100,000 users (and, unless `targets` says otherwise, fewer). */
  targetSeconds?: number
  /** Tighter bounds at particular sizes, in seconds, e.g. {10000: 0.25}. */
  targets?: Record<number, number>
  /** Exit codes that count as success; a command that reports findings through its exit code lists them here. */
  okExitCodes?: number[]
}

import {putOnePercentOverQuota, reportMonth} from './seed-database.js'

/** Users at which `targetSeconds` is promised; smaller sizes are held to the same bound. */
export const targetSize = 100_000

/**
 * Run in this order for every size. `stats pull` goes first: every pull bills each user the stub's growth, so the
 * scenarios after it see a ledger with usage in it.
 */
export const scenarios: Scenario[] = [
  {name: 'stats pull', args: ['stats', 'pull'], targetSeconds: 0.6},
  {name: 'check, nothing changes', args: ['check'], targetSeconds: 1.0, targets: {10_000: 0.25}},
  {name: 'check, 1% cross quota', args: ['check'], setup: putOnePercentOverQuota, targetSeconds: 1.5},
  {name: 'report --month', args: ['report', '--month', reportMonth(), '--json'], targetSeconds: 1.0},
  {name: 'user list --json', args: ['user', 'list', '--json']},
  {name: '--version', args: ['--version'], targetSeconds: 0.25},
]
