import {join} from 'node:path'

import {repoRoot} from '../../test/support/paths.js'
import type {DialectName} from './bench-dialects.js'
import {putOnePercentOverQuota, putTenthLimitedAtMonthEnd, reportMonth} from './seed-database.js'
import type {StubProcess} from './stub-process.js'
import type {FloorKind, Targets} from './targets.js'

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
  stub: StubProcess
  /** Today in the install's zone, the day sbq's pulls write to (and so the SQL-alone floor too). */
  today: string
}

/** A command other than sbq: a floor's, or the in-process check's script. */
export interface Invocation {
  command: string
  args: string[]
  /** The command prints `{"ms":…}`: that is the figure, not the process's wall time (which includes Node's start). */
  reportsOwnTime: boolean
}

/** Which part of the floor a floor scenario measures (see FloorParts). */
export type FloorPart = 'start' | 'pull' | 'sql'

export interface Scenario {
  name: string
  /** sbq's arguments (a floor's or the in-process check's: its script's, for the record). */
  args: string[]
  /** sbq (default); a part of the floor; or serve's check, run in one process by `invocation`. */
  kind?: 'sbq' | 'floor' | 'in-process'
  floorPart?: FloorPart
  /** What runs instead of sbq, for floors and the in-process check. */
  invocation?: (target: BenchTarget, runs: {warmups: number; runs: number}) => Invocation
  /**
   * Runs untimed before every run, warm-up included (`run` counts them from 0), e.g. to put the same 1% of users back
   * near their quota; may return variables for sbq's environment (SBQ_NOW, for a run at another time).
   */
  setup?: (target: BenchTarget, run: number) => Promise<NodeJS.ProcessEnv | void>
  /** The stub grows the users whose number is a multiple of this (1, the default: every user, on every run). */
  activeEvery?: number
  /** The floor this scenario is measured against, if any. */
  floor?: FloorKind
  bounds?: Targets
  /** Exit codes that count as success; a command that reports findings through its exit code lists them here. */
  okExitCodes?: number[]
}

const barePullScript = join(repoRoot, 'dist', 'bench', 'lib', 'bare-pull.js')
const sqlAloneScript = join(repoRoot, 'dist', 'bench', 'lib', 'sql-alone.js')
const inProcessCheckScript = join(repoRoot, 'dist', 'bench', 'lib', 'in-process-check.js')

/** The share of users active in the 10% scenarios: every tenth user. */
export const tenth = 10

export const everyUserActive = 'check, every user active'

function sqlAlone(every: number): Scenario {
  return {
    name: `floor: SQL alone, ${every === 1 ? 'every user' : `${100 / every}% of users`}`,
    args: ['sql-alone.js', '--every', String(every)],
    kind: 'floor',
    floorPart: 'sql',
    activeEvery: every,
    invocation: (target) => ({
      command: process.execPath,
      args: [
        sqlAloneScript,
        '--db',
        target.db,
        '--users',
        String(target.size),
        '--every',
        String(every),
        '--day',
        target.today,
      ],
      reportsOwnTime: true,
    }),
  }
}

/**
 * Measured first at every size, the dialects taking turns: what any pull costs whoever makes it. A scenario's floor
 * is their sum (Node's start only for a whole process; the SQL of the users it bills).
 */
export const floorScenarios: Scenario[] = [
  {
    name: 'floor: node -e 0',
    args: ['-e', '0'],
    kind: 'floor',
    floorPart: 'start',
    invocation: () => ({command: process.execPath, args: ['-e', '0'], reportsOwnTime: false}),
  },
  {
    name: 'floor: bare pull',
    args: ['bare-pull.js'],
    kind: 'floor',
    floorPart: 'pull',
    invocation: (target) => ({
      command: process.execPath,
      args: [barePullScript, '--api', target.stubAddress],
      reportsOwnTime: true,
    }),
  },
  sqlAlone(1),
  sqlAlone(tenth),
]

/**
 * SBQ_NOW for a run `monthsAhead` calendar months after `now`'s, on `day` of that month, at noon UTC (the same
 * calendar day in every zone from UTC-11 to UTC+11).
 */
export function benchDate(now: Date, monthsAhead: number, day: number): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + monthsAhead, day, 12)).toISOString()
}

/** Days of next month the first-run-of-a-day runs take, one each: from the 2nd, so none crosses a month. */
const firstDayOfRuns = 2
const lastDayOfRuns = 28

/**
 * Run in this order for every size. `stats pull` goes first: every pull bills the stub's growth, so the scenarios
 * after it see a ledger with usage in it. The two that move the clock on (SBQ_NOW) go last: after them the ledger's
 * days are closed past today, which would make an ordinary run at today's date a late write.
 */
export const scenarios: Scenario[] = [
  {name: 'stats pull', args: ['stats', 'pull'], floor: 'process', bounds: {seconds: 0.6}},
  {
    name: everyUserActive,
    args: ['check'],
    floor: 'process',
    bounds: {floorMultipleAt: {100_000: 2}, rssMbAt: {100_000: 250}},
  },
  {
    name: 'check, 10% of users active',
    args: ['check'],
    activeEvery: tenth,
    floor: 'process',
    bounds: {secondsAt: {10_000: 0.35, 100_000: 1.0}},
  },
  {
    name: 'check, 1% cross quota',
    args: ['check'],
    setup: putOnePercentOverQuota,
    floor: 'process',
    bounds: {secondsAt: {100_000: 2.5}},
  },
  {name: 'report --month', args: ['report', '--month', reportMonth(), '--json'], bounds: {seconds: 1.0}},
  {name: 'user list --json', args: ['user', 'list', '--json']},
  {name: '--version', args: ['--version'], bounds: {seconds: 0.25}},
  {
    name: 'serve --check-every: one check in-process',
    args: ['in-process-check.js'],
    kind: 'in-process',
    floor: 'in-process',
    bounds: {secondsAt: {10_000: 0.15, 100_000: 1.0}},
    invocation: (target, {warmups, runs}) => ({
      command: process.execPath,
      args: [inProcessCheckScript, '--db', target.db, '--warmups', String(warmups), '--runs', String(runs)],
      reportsOwnTime: true,
    }),
  },
  {
    // Each run is the first of a new day: it closes the day the run before wrote (every user's row) into month sums.
    name: 'check, first run of a day',
    args: ['check'],
    floor: 'process',
    bounds: {relativeTo: {scenario: everyUserActive, multiple: 1.5}},
    setup: async (_target, run) => {
      const day = firstDayOfRuns + run
      if (day > lastDayOfRuns) throw new Error(`more runs than days in a month (${lastDayOfRuns - firstDayOfRuns + 1})`)
      return {SBQ_NOW: benchDate(new Date(), 1, day)}
    },
  },
  {
    // Each run is the first at a new month: every user's period rolls over and the tenth limited for their monthly
    // allowance are enabled again, the config rewritten and each added live.
    name: 'check, month boundary, 10% back on',
    args: ['check'],
    floor: 'process',
    bounds: {secondsAt: {100_000: 5}},
    setup: async (target, run) => {
      await putTenthLimitedAtMonthEnd(target)
      return {SBQ_NOW: benchDate(new Date(), 2 + run, 1)}
    },
  },
]
