import {dialectNames, type DialectName} from './bench-dialects.js'

/** The knobs, all from the environment so `npm run bench` needs no flags. */
export interface BenchSettings {
  sizes: number[]
  /** BENCH_DIALECTS; null: SQLite, and PostgreSQL when it is there (bench-dialects.ts). */
  dialects: DialectName[] | null
  warmups: number
  runs: number
  /** Each sbq process is killed past this. */
  runTimeoutMs: number
  /**
   * Timed runs of one scenario at one size stop early once they have taken this long (at least one always runs), so
   * a command that has gone slow still gets measured and the whole bench stays within minutes.
   */
  scenarioBudgetMs: number
  /** The whole bench gives up past this, cleaning up on the way out. */
  totalTimeoutMs: number
  /** Whether sbq gets this shell's whole environment (BENCH_INHERIT_ENV=1) or only what a cron job would have. */
  inheritEnv: boolean
}

export function benchSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  return {
    sizes: list(env.BENCH_SIZES, '1000,10000,100000', 'BENCH_SIZES'),
    dialects: dialects(env.BENCH_DIALECTS),
    warmups: 1,
    runs: count(env.BENCH_RUNS, 5, 'BENCH_RUNS'),
    runTimeoutMs: count(env.BENCH_RUN_TIMEOUT_S, 60, 'BENCH_RUN_TIMEOUT_S') * 1000,
    scenarioBudgetMs: 30_000,
    totalTimeoutMs: count(env.BENCH_TIMEOUT_S, 2400, 'BENCH_TIMEOUT_S') * 1000,
    inheritEnv: env.BENCH_INHERIT_ENV === '1',
  }
}

/** The variables a cron job or a systemd unit starts with (plus the locale and zone, which sbq's output depends on). */
const cronVariables = ['PATH', 'HOME', 'LOGNAME', 'USER', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR']

/**
 * What sbq runs with in the bench: by default the environment cron would give it, because that is where sbq's main
 * job runs, and an interactive shell can carry variables no cron job has that cost every start. NODE_EXTRA_CA_CERTS
 * is one: Node 20 parses the named CA bundle at start-up, before any of sbq's code runs (0.1 s a start on the
 * machine this was measured on, for a command that makes no TLS connection).
 */
export function sbqEnvironment(settings: BenchSettings, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (settings.inheritEnv) return {...env}
  return Object.fromEntries(cronVariables.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])))
}

function list(value: string | undefined, fallback: string, name: string): number[] {
  const text = value === undefined || value.trim() === '' ? fallback : value
  return text.split(',').map((part) => positive(part.trim().replace(/_/g, ''), name))
}

function dialects(value: string | undefined): DialectName[] | null {
  if (value === undefined || value.trim() === '') return null
  const names = value.split(',').map((part) => part.trim())
  for (const name of names)
    if (!(dialectNames as readonly string[]).includes(name))
      throw new Error(`BENCH_DIALECTS: "${name}" is not one of ${dialectNames.join(', ')}`)
  return dialectNames.filter((name) => names.includes(name))
}

export function count(value: string | undefined, fallback: number, name: string): number {
  return value === undefined || value.trim() === '' ? fallback : positive(value.trim(), name)
}

function positive(text: string, name: string): number {
  const number = Number(text)
  if (!/^\d+$/.test(text) || number < 1) throw new Error(`${name}: "${text}" is not a positive whole number`)
  return number
}
