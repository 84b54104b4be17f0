import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'

/**
 * Which database the suites run on this pass. scripts/run-tests.mjs runs the repository, migration and end-to-end
 * suites once on SQLite and once on PostgreSQL (a throw-away cluster it starts), as kysely's own tests loop over
 * their dialects; SBQ_TEST_POSTGRES is that cluster's URL.
 */
export const testDialect: 'sqlite' | 'postgres' = process.env.SBQ_TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite'

/** The `skip` option of a test that is about an SQLite file itself (its mode, its pages, its backup). */
export const sqliteOnly: string | false = testDialect === 'postgres' ? 'about the SQLite file itself' : false

/** The `skip` option of a test that needs PostgreSQL whatever the pass. */
export const needsPostgres: string | false = process.env.SBQ_TEST_POSTGRES
  ? false
  : process.env.CI
    ? false
    : 'PostgreSQL is not installed (apt-get install postgresql; see docs/development.md)'

export function postgresServerUrl(): string {
  const url = process.env.SBQ_TEST_POSTGRES
  if (!url) throw new Error('SBQ_TEST_POSTGRES is not set: run the tests with npm test, which starts PostgreSQL')
  return url
}

/** A new, empty PostgreSQL database on the test cluster, as an operator would create one; its URL. */
export function freshPostgresDatabase(): string {
  const server = postgresServerUrl()
  const name = `sbq_${randomBytes(6).toString('hex')}`
  psql(server, `create database ${name}`)
  const url = new URL(server)
  url.pathname = `/${name}`
  return url.toString()
}

export function dropPostgresDatabase(url: string): void {
  const name = new URL(url).pathname.slice(1)
  try {
    psql(postgresServerUrl(), `drop database if exists ${name} with (force)`)
  } catch {
    // The cluster is thrown away at the end of the run anyway.
  }
}

export function psql(url: string, ...commands: string[]): string {
  return execFileSync(
    'psql',
    [url, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', ...commands.flatMap((c) => ['-c', c])],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
}
