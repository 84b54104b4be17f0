/** The knobs, all from the environment so `npm run bench` needs no flags. */
export interface BenchSettings {
  sizes: number[]
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
}

export function benchSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  return {
    sizes: list(env.BENCH_SIZES, '1000,10000,100000', 'BENCH_SIZES'),
    warmups: 1,
    runs: count(env.BENCH_RUNS, 5, 'BENCH_RUNS'),
    runTimeoutMs: count(env.BENCH_RUN_TIMEOUT_S, 60, 'BENCH_RUN_TIMEOUT_S') * 1000,
    scenarioBudgetMs: 30_000,
    totalTimeoutMs: count(env.BENCH_TIMEOUT_S, 900, 'BENCH_TIMEOUT_S') * 1000,
  }
}

function list(value: string | undefined, fallback: string, name: string): number[] {
  const text = value === undefined || value.trim() === '' ? fallback : value
  return text.split(',').map((part) => positive(part.trim().replace(/_/g, ''), name))
}

function count(value: string | undefined, fallback: number, name: string): number {
  return value === undefined || value.trim() === '' ? fallback : positive(value.trim(), name)
}

function positive(text: string, name: string): number {
  const number = Number(text)
  if (!/^\d+$/.test(text) || number < 1) throw new Error(`${name}: "${text}" is not a positive whole number`)
  return number
}
