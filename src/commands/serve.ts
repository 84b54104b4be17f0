import {Flags} from '@oclif/core'

import {SbqCommand} from './base-command.js'
import {rotateMetricsToken} from '../lib/serve/metrics-token.js'
import {serve} from '../lib/serve/run-serve.js'
import {renderChanges, renderNodeSyncs, nodeErrors} from '../lib/output/check-tables.js'

export interface ServeResult {
  /** The address the server listened on. */
  listen?: string
  /** With --rotate-metrics-token: the new token, shown only this once. */
  metricsToken?: string
}

export default class Serve extends SbqCommand<typeof Serve> {
  static override summary =
    'Receive 3x-ui traffic reports and pushes from other sbq, serve /metrics and the web dashboard, and run the check in-process'
  static override description =
    'Runs until SIGTERM or SIGINT, then finishes the requests and the check in flight. Put it behind an https reverse proxy: 3x-ui sends no credentials but the token in the URL.'
  static override examples = [
    '<%= config.bin %> serve --listen 127.0.0.1:8787 --check-every 1m',
    '<%= config.bin %> serve --rotate-metrics-token',
    '<%= config.bin %> admin set-password && <%= config.bin %> serve --trust-proxy',
    'curl -H "Authorization: Bearer TOKEN" http://127.0.0.1:8787/metrics',
  ]
  static override flags = {
    listen: Flags.string({
      description: 'HOST:PORT to listen on (port 0: any free port, printed on start)',
      default: '127.0.0.1:8787',
    }),
    'check-every': Flags.string({
      description:
        'run sbq check in-process this often (10s to 24h, e.g. 1m); without it, run check from cron or a timer',
    }),
    'metrics-public': Flags.boolean({description: 'serve /metrics without the bearer token'}),
    'rotate-metrics-token': Flags.boolean({description: 'make a new /metrics token, print it once, and exit'}),
    dashboard: Flags.boolean({
      description: 'serve the web dashboard on / (needs sbq admin set-password)',
      default: true,
      allowNo: true,
    }),
    'trust-proxy': Flags.boolean({
      description:
        'behind a reverse proxy: trust its X-Forwarded-Proto (Secure cookies) and X-Forwarded-For (login rate limit), from loopback peers only',
    }),
  }

  async run(): Promise<ServeResult> {
    const db = await this.database()
    if (this.flags['rotate-metrics-token']) {
      const metricsToken = await rotateMetricsToken(db)
      this.log(metricsToken)
      return {metricsToken}
    }
    const style = await this.style()
    const {listen, dashboard} = this.flags
    const options = {
      listen,
      checkEvery: this.flags['check-every'] ?? null,
      metricsPublic: this.flags['metrics-public'],
      dashboard,
      trustProxy: this.flags['trust-proxy'],
    }
    return serve(db, options, {
      context: (actor) => this.context(actor),
      log: (line) => this.stderr(line),
      describeCheck: (result) => [
        ...renderChanges(result.changes, style),
        ...renderNodeSyncs(result.nodes, style),
        ...result.pulls
          .filter((pull) => !pull.ok)
          .map((pull) => `error: node "${pull.name}" could not be pulled: ${pull.error}`),
        ...nodeErrors(result.nodes),
      ],
    })
  }
}
