#!/usr/bin/env node
// A throw-away PostgreSQL cluster for the tests and the bench: initdb in a temporary directory, listening on loopback
// only, owned by the `postgres` user when run as root (initdb refuses root), removed when stopped.
// Usage: node scripts/postgres-cluster.mjs start [--durable]   prints `export SBQ_TEST_POSTGRES=...` lines
//        node scripts/postgres-cluster.mjs stop DIR
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

/** Debian keeps the server's programs off PATH, under /usr/lib/postgresql/<major>/bin; the newest major wins. */
export function postgresBin() {
  const onPath = spawnSync('sh', ['-c', 'command -v pg_ctl'], {encoding: 'utf8'}).stdout.trim()
  if (onPath && existsSync(join(onPath, '..', 'initdb'))) return join(onPath, '..')
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const majors = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return majors.length > 0 ? join(root, majors[0], 'bin') : undefined
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address()
      server.close(() => resolve(port))
    })
  })
}

function asOwner(command, args, options = {}) {
  const root = userInfo().uid === 0
  const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]
  return execFileSync(file, argv, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options})
}

/**
 * Starts a cluster and returns {dir, url}. `durable` keeps PostgreSQL's default fsync and synchronous commit (the
 * bench measures those); the tests turn them off, as PostgreSQL's own docs suggest for throw-away data.
 */
export async function startCluster({durable = false} = {}) {
  const bin = postgresBin()
  if (!bin) throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql)')
  const dir = mkdtempSync(join(tmpdir(), 'sbq-postgres-'))
  if (userInfo().uid === 0) {
    const ids = execFileSync('id', ['-u', 'postgres'], {encoding: 'utf8'}).trim()
    const group = execFileSync('id', ['-g', 'postgres'], {encoding: 'utf8'}).trim()
    chownSync(dir, Number(ids), Number(group))
  }
  chmodSync(dir, 0o700)
  const data = join(dir, 'data')
  asOwner(join(bin, 'initdb'), ['-D', data, '-U', 'sbq', '--auth=trust', '--locale=C', '--encoding=UTF8'])
  const port = await freePort()
  const settings = [
    `-c listen_addresses=127.0.0.1`,
    `-p ${port}`,
    `-k ${dir}`,
    `-c max_connections=200`,
    ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ')
  // Kept for startServer: a restart must come back on the same port, where sbq's URL points.
  writeFileSync(join(dir, 'settings'), settings)
  asOwner(join(bin, 'pg_ctl'), ['-D', data, '-o', settings, '-l', join(dir, 'log'), '-w', 'start'])
  return {dir, url: `postgres://sbq@127.0.0.1:${port}/postgres`}
}

/** Stops the cluster's server and keeps its data (a test of sbq while its database is down); startServer resumes. */
export function stopServer(dir) {
  asOwner(join(postgresBin(), 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop'])
}

/** Starts a server stopped by stopServer again, on the same port and with the same settings. */
export function startServer(dir) {
  const settings = readFileSync(join(dir, 'settings'), 'utf8')
  asOwner(join(postgresBin(), 'pg_ctl'), [
    '-D',
    join(dir, 'data'),
    '-o',
    settings,
    '-l',
    join(dir, 'log'),
    '-w',
    'start',
  ])
}

export function stopCluster(dir) {
  const bin = postgresBin()
  if (bin && existsSync(join(dir, 'data'))) {
    try {
      asOwner(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop'])
    } catch {
      // Already stopped: the directory goes either way.
    }
  }
  rmSync(dir, {recursive: true, force: true})
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [command, argument] = process.argv.slice(2)
  if (command === 'start') {
    const {dir, url} = await startCluster({durable: argument === '--durable'})
    process.stdout.write(`export SBQ_TEST_POSTGRES='${url}'\nexport SBQ_TEST_POSTGRES_DIR='${dir}'\n`)
  } else if (command === 'stop' && argument) {
    stopCluster(argument)
  } else {
    process.stderr.write('usage: postgres-cluster.mjs start [--durable] | stop DIR\n')
    process.exit(2)
  }
}
