import {join} from 'node:path'

import {postgresAvailable, startPostgres, type Database, type PostgresServer} from './postgres-server.js'

export type DialectName = 'sqlite' | 'postgres'

export const dialectNames: readonly DialectName[] = ['sqlite', 'postgres']

export const dialectLabels: Record<DialectName, string> = {sqlite: 'SQLite', postgres: 'PostgreSQL'}

/** Where one dialect's fresh databases come from: a file in a temp directory, or a new database on the server. */
export interface BenchDialect {
  name: DialectName
  label: string
  /** A new, empty database for one size (`tag` names it); its files go in `dir`. */
  newDatabase(tag: string, dir: string): Promise<Database>
}

export interface BenchDialects {
  dialects: BenchDialect[]
  /** The server the PostgreSQL databases live on, when PostgreSQL is benched. */
  postgres: PostgresServer | null
  /** Stops a cluster the bench started. */
  close(): void
}

const sqlite: BenchDialect = {
  name: 'sqlite',
  label: dialectLabels.sqlite,
  newDatabase: async (_tag, dir) => ({url: join(dir, 'sbq.db'), drop: async () => {}}),
}

/**
 * BENCH_DIALECTS (`sqlite`, `postgres` or both) when given; otherwise SQLite, and PostgreSQL too when BENCH_DB
 * names a server or PostgreSQL is installed.
 */
export async function openDialects(
  wanted: DialectName[] | null,
  note: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BenchDialects> {
  let names = wanted
  if (names === null) {
    names = (await postgresAvailable(env)) ? ['sqlite', 'postgres'] : ['sqlite']
    if (names.length === 1) note('PostgreSQL is not installed and BENCH_DB is not set: SQLite only')
  }
  if (!names.includes('postgres')) return {dialects: [sqlite], postgres: null, close: () => {}}
  const server = await startPostgres(env)
  const postgres: BenchDialect = {
    name: 'postgres',
    label: dialectLabels.postgres,
    newDatabase: (tag) => server.createDatabase(`sbq_bench_${process.pid}_${tag}`),
  }
  const {fsync, synchronous_commit, full_page_writes, shared_buffers, server_version} = server.settings
  note(
    `PostgreSQL ${server_version} on ${server.origin}: fsync ${fsync}, synchronous_commit ${synchronous_commit}, full_page_writes ${full_page_writes}, shared_buffers ${shared_buffers}`,
  )
  return {
    dialects: names.includes('sqlite') ? [sqlite, postgres] : [postgres],
    postgres: server,
    close: () => server.stop(),
  }
}
