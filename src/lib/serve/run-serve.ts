import {settingValue} from '../settings/settings.js'
import {adminPasswordHash} from '../web/admin-password.js'
import {startCheckLoop} from './check-loop.js'
import {metricsTokenHash, newMetricsToken, storeMetricsToken} from './metrics-token.js'
import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {parseInterval, parseListen} from '../domain/schedule-input.js'
import {invalidInput} from '../errors.js'
import {runCheck, type CheckResult} from '../enforcement/run-check.js'
import {isLoopbackAddress} from '../web/web-request.js'

export interface ServeOptions {
  listen: string
  /** `--check-every`, as typed; null: no in-process check. */
  checkEvery: string | null
  metricsPublic: boolean
  /** Serve the web dashboard when an admin password is set (`--no-dashboard`: never). */
  dashboard: boolean
  /** `--trust-proxy`: the dashboard believes X-Forwarded-Proto and X-Forwarded-For from a reverse proxy on loopback. */
  trustProxy: boolean
}

export interface ServeIo {
  context: (actor: 'web' | 'check') => Promise<Context>
  /** Progress, warnings and the lines a check would print; to stderr. */
  log: (line: string) => void
  /** Renders one in-process check's result as lines. */
  describeCheck: (result: CheckResult) => string[]
}

/**
 * `sbq serve`: listens until SIGTERM or SIGINT, optionally running the check on an interval, then stops taking
 * connections, finishes the requests and the check in flight, and returns the address it listened on.
 */
export async function serve(db: Db, options: ServeOptions, io: ServeIo): Promise<{listen: string}> {
  // The server and the dashboard load only here: no other command needs node:http or the dashboard's pages.
  const {createSbqServer} = await import('./sbq-server.js')
  const {createUserPortal} = await import('../web/user-portal.js')
  const {host, port} = parseListen(options.listen)
  const interval = options.checkEvery === null ? null : parseInterval(options.checkEvery)
  const storedHash = options.metricsPublic ? null : await metricsTokenHash(db)
  // Stored and shown only once the server listens: a start that fails must not use up the one showing.
  const newToken = !options.metricsPublic && storedHash === null ? newMetricsToken() : null
  const tokenHash = newToken?.hash ?? storedHash
  const dashboard = options.dashboard ? await startDashboard(db, options, io) : null
  if (dashboard && options.trustProxy && !isLoopback(host)) {
    io.log(
      `warning: --trust-proxy believes X-Forwarded-For and X-Forwarded-Proto only from loopback peers, and --listen ${options.listen} takes connections from other hosts too (run the proxy on this machine and listen on 127.0.0.1)`,
    )
  }
  const server = createSbqServer({
    db,
    context: () => io.context('web'),
    bodyLimit: Number(await settingValue(db, 'inform-body-limit')),
    metricsTokenHash: tokenHash,
    log: io.log,
    dashboard,
    userPortal: createUserPortal({db, context: () => io.context('web'), trustProxy: options.trustProxy}),
    trustProxy: options.trustProxy,
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        invalidInput(
          'LISTEN_FAILED',
          `cannot listen on "${options.listen}": ${error.code ?? error.message}`,
          'pick a free port with --listen HOST:PORT',
        ),
      ),
    )
    server.listen(port, host, resolve)
  })
  if (newToken) {
    await storeMetricsToken(db, newToken)
    io.log(`/metrics token (shown only now; a new one: sbq serve --rotate-metrics-token): ${newToken.token}`)
  }
  const address = server.address() as {address: string; port: number}
  const listen = `${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`
  io.log(`sbq serve listening on http://${listen}${interval ? `, checking every ${interval.text}` : ''}`)
  if (dashboard)
    io.log(
      `dashboard on http://${listen}/${isLoopback(host) || options.trustProxy ? '' : ' (plain HTTP: put a TLS reverse proxy in front and use --trust-proxy)'}`,
    )
  const loop = interval === null ? null : await startChecks(db, interval.seconds * 1000, io)
  await waitForSignal()
  io.log('sbq serve stopping: finishing requests in flight')
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  await Promise.all([closed, loop?.stop()])
  return {listen}
}

/** The dashboard, or null (with one line saying how to turn it on) when no admin password is set. */
async function startDashboard(db: Db, options: ServeOptions, io: ServeIo) {
  const {createDashboard} = await import('../web/dashboard.js')
  if ((await adminPasswordHash(db)) === null) {
    io.log(
      'dashboard off: no admin password is set (sbq admin set-password, then restart sbq serve); /inform, /sub, /u, /metrics and /healthz work',
    )
    return null
  }
  return createDashboard({db, context: () => io.context('web'), trustProxy: options.trustProxy, log: io.log})
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host)
}

async function startChecks(db: Db, intervalMs: number, io: ServeIo) {
  return startCheckLoop(intervalMs, async () => {
    try {
      const result = await runCheck(db, {dryRun: false, pull: true, lockWaitMs: 5000}, await io.context('check'))
      for (const line of io.describeCheck(result)) io.log(line)
    } catch (error) {
      io.log(`error: check failed: ${(error as Error).message} (the next one runs in ${intervalMs / 1000}s)`)
    }
  })
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      resolve()
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
}
