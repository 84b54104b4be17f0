import {execFileSync} from 'node:child_process'

import pg from 'pg'

import {clusterScript} from '../../test/support/postgres-cluster.js'
import {onExit} from './exit-cleanup.js'

/** The server settings that decide what a commit costs; recorded with the results. */
export interface DurabilitySettings {
  fsync: string
  synchronous_commit: string
  full_page_writes: string
  shared_buffers: string
  server_version: string
}

/** A PostgreSQL server the bench makes databases on: a throw-away cluster of its own, or BENCH_DB's. */
export interface PostgresServer {
  /** Where it came from, for the progress lines and the results: "throw-away cluster" or the masked URL. */
  origin: string
  settings: DurabilitySettings
  /** The URL of the maintenance database (to create and drop others). */
  url: string
  /** A new empty database with the C collation (as docs/fleets.md creates it); dropped by drop() or at exit. */
  createDatabase(name: string): Promise<Database>
  /** Stops a cluster the bench started; leaves BENCH_DB's server running. */
  stop(): void
}

export interface Database {
  url: string
  drop(): Promise<void>
}

/** Whether a PostgreSQL is there to bench: BENCH_DB, or an installed server the bench can start a cluster of. */
export async function postgresAvailable(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return env.BENCH_DB !== undefined || (await clusterScript()).postgresBin() !== undefined
}

/**
 * BENCH_DB=postgres://… uses that server; otherwise a throw-away cluster on loopback with fsync, synchronous commit
 * and full-page writes on, as a server runs (scripts/postgres-cluster.mjs `--durable`; the tests' clusters turn
 * them off), stopped and removed when the bench ends however it ends.
 */
export async function startPostgres(env: NodeJS.ProcessEnv = process.env): Promise<PostgresServer> {
  if (env.BENCH_DB !== undefined) {
    const url = env.BENCH_DB
    return serverAt(url, new URL(url).host, () => {})
  }
  const script = await clusterScript()
  const cluster = await script.startCluster({durable: true})
  const stop = onExit(() => script.stopCluster(cluster.dir))
  const server = await serverAt(cluster.url, 'throw-away cluster', stop)
  const off = (['fsync', 'synchronous_commit', 'full_page_writes'] as const).filter(
    (name) => server.settings[name] !== 'on',
  )
  if (off.length > 0) {
    stop()
    throw new Error(`the bench's cluster runs with ${off.join(', ')} off; a server would not`)
  }
  return server
}

async function serverAt(url: string, origin: string, stop: () => void): Promise<PostgresServer> {
  const settings = await withClient(url, async (client) => {
    const values: Record<string, string> = {}
    for (const name of ['fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'server_version'])
      values[name] = (await client.query<Record<string, string>>(`show ${name}`)).rows[0]![name]!
    return values as unknown as DurabilitySettings
  })
  return {
    origin,
    settings,
    url,
    createDatabase: async (name) => {
      if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`not a database name for the bench: ${name}`)
      await withClient(url, (client) =>
        client.query(`create database ${name} template template0 encoding 'UTF8' lc_collate 'C' lc_ctype 'C'`),
      )
      const dropSql = `drop database if exists ${name} with (force)`
      // psql, synchronously, so that the same drop also runs on the way out (only synchronous work runs there).
      const dropAtExit = onExit(() => {
        try {
          execFileSync('psql', [url, '-X', '-q', '-c', dropSql], {stdio: 'ignore', timeout: 10_000})
        } catch {
          // Best effort: the server may be gone already.
        }
      })
      const target = new URL(url)
      target.pathname = `/${name}`
      return {url: target.toString(), drop: async () => dropAtExit()}
    },
    stop,
  }
}

export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({connectionString: url, application_name: 'sbq-bench'})
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}
