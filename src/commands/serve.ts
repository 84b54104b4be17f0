import {Flags} from '@oclif/core'

import {SbqCommand} from './base-command.js'
import {invalidInput} from '../lib/errors.js'

export interface ServeResult {
  /** The address the server listened on. */
  listen?: string
  /** With --rotate-metrics-token: the new token, shown only this once. */
  metricsToken?: string
}

export default class Serve extends SbqCommand<typeof Serve> {
  static override summary = 'Receive 3x-ui traffic reports and pushes from other sbq, serve /metrics, and run the check in-process'
  static override description =
    'Runs until SIGTERM or SIGINT, then finishes the requests and the check in flight. Put it behind an https reverse proxy: 3x-ui sends no credentials but the token in the URL.'
  static override examples = [
    '<%= config.bin %> serve --listen 127.0.0.1:8787 --check-every 1m',
    '<%= config.bin %> serve --rotate-metrics-token',
    'curl -H "Authorization: Bearer TOKEN" http://127.0.0.1:8787/metrics',
  ]
  static override flags = {
    listen: Flags.string({description: 'HOST:PORT to listen on (port 0: any free port, printed on start)', default: '127.0.0.1:8787'}),
    'check-every': Flags.string({description: 'run sbq check in-process this often (10s to 24h, e.g. 1m); without it, run check from cron or a timer'}),
    'metrics-public': Flags.boolean({description: 'serve /metrics without the bearer token'}),
    'rotate-metrics-token': Flags.boolean({description: 'make a new /metrics token, print it once, and exit'}),
  }

  async run(): Promise<ServeResult> {
    const db = await this.database()
    const {metricsTokenHash, rotateMetricsToken} = await import('../lib/serve/metrics-token.js')
    if (this.flags['rotate-metrics-token']) {
      const metricsToken = await rotateMetricsToken(db)
      this.log(metricsToken)
      return {metricsToken}
    }
    const [{createSbqServer}, {settingValue}, {parseInterval}] = await Promise.all([
      import('../lib/serve/sbq-server.js'),
      import('../lib/settings/settings.js'),
      import('../lib/schedule/units.js'),
    ])
    const {host, port} = parseListen(this.flags.listen)
    const interval = this.flags['check-every'] === undefined ? null : parseInterval(this.flags['check-every'])
    let tokenHash = this.flags['metrics-public'] ? null : await metricsTokenHash(db)
    if (!this.flags['metrics-public'] && tokenHash === null) {
      const token = await rotateMetricsToken(db)
      tokenHash = await metricsTokenHash(db)
      this.stderr(`/metrics token (shown only now; a new one: sbq serve --rotate-metrics-token): ${token}`)
    }
    const server = createSbqServer({
      db,
      context: () => this.context('web'),
      bodyLimit: Number(await settingValue(db, 'inform-body-limit')),
      metricsTokenHash: tokenHash,
      log: (line) => this.stderr(line),
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => reject(invalidInput('LISTEN_FAILED', `cannot listen on "${this.flags.listen}": ${error.code ?? error.message}`, 'pick a free port with --listen HOST:PORT')))
      server.listen(port, host, resolve)
    })
    const address = server.address() as {address: string; port: number}
    const listen = `${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`
    this.stderr(`sbq serve listening on http://${listen}${interval ? `, checking every ${interval.text}` : ''}`)
    const loop = interval === null ? null : await this.startChecks(interval.seconds * 1000)
    await waitForSignal()
    this.stderr('sbq serve stopping: finishing requests in flight')
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    await Promise.all([closed, loop?.stop()])
    return {listen}
  }

  private async startChecks(intervalMs: number) {
    const [{startCheckLoop}, {runCheck}, {renderChanges, renderNodeSyncs, nodeErrors}] = await Promise.all([
      import('../lib/serve/check-loop.js'),
      import('../lib/enforcement/run-check.js'),
      import('../lib/output/check-tables.js'),
    ])
    const db = await this.database()
    const style = await this.style()
    return startCheckLoop(intervalMs, async () => {
      try {
        const result = await runCheck(db, {dryRun: false, pull: true, lockWaitMs: 5000}, await this.context('check'))
        const pullErrors = result.pulls.filter((pull) => !pull.ok).map((pull) => `error: node "${pull.name}" could not be pulled: ${pull.error}`)
        for (const line of [...renderChanges(result.changes, style), ...renderNodeSyncs(result.nodes, style), ...pullErrors, ...nodeErrors(result.nodes)]) this.stderr(line)
      } catch (error) {
        this.stderr(`error: check failed: ${(error as Error).message} (the next one runs in ${intervalMs / 1000}s)`)
      }
    })
  }
}

function parseListen(text: string): {host: string; port: number} {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim())
  const port = match ? Number(match[3]) : Number.NaN
  if (!match || port > 65_535) throw invalidInput('INVALID_LISTEN', `listen address "${text}" is not HOST:PORT`, 'give it like 127.0.0.1:8787, or [::1]:8787')
  return {host: match[1] ?? match[2]!, port}
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
