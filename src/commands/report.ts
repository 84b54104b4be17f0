import {Flags} from '@oclif/core'

import {SbqCommand} from './base-command.js'
import {ExitCode, SbqError} from '../lib/errors.js'
import {buildReport, type Report} from '../lib/reports/usage-report.js'
import {reportToCsv} from '../lib/reports/report-csv.js'
import {summaryText} from '../lib/reports/report-summary.js'
import {sendMessage} from '../lib/alerts/deliver.js'
import {
  renderInboundsReport,
  renderNodesReport,
  renderUserMonthReport,
  renderUsersReport,
} from '../lib/output/report-tables.js'

export interface ReportNotification {
  text: string
  /** Channels that took the summary. */
  sentTo: string[]
  error: string | null
}

export default class ReportCommand extends SbqCommand<typeof ReportCommand> {
  static override summary = 'Traffic per user (or per node, or one user per day) for a calendar month'
  static override description =
    'Months are calendar months in the install\'s time zone (sbq config set timezone). "% of quota" is of each user\'s ' +
    "billing period in force at the month's end (or now, for the current month). Traffic of names sbq does not manage " +
    'is shown on a separate "unmanaged" line and never counted in the totals.'
  static override examples = [
    '<%= config.bin %> report',
    '<%= config.bin %> report --month 2024-05 --top 10 --active',
    '<%= config.bin %> report --user alice',
    '<%= config.bin %> report --by node --format csv > nodes.csv',
    '<%= config.bin %> report --by inbound --node de1',
  ]
  static override flags = {
    month: Flags.string({description: 'calendar month as YYYY-MM [default: this month]'}),
    user: Flags.string({description: "one user's days of the month", exclusive: ['by', 'top', 'active', 'notify']}),
    node: Flags.string({description: 'only traffic on this node'}),
    by: Flags.string({
      description: 'one row per node, or per inbound (as 3x-ui nodes report them), instead of per user',
      options: ['node', 'inbound'],
      exclusive: ['top', 'active', 'notify'],
    }),
    top: Flags.integer({description: 'only the N busiest users (the totals still cover all)', min: 1}),
    active: Flags.boolean({description: 'hide users without traffic this month'}),
    format: Flags.string({description: 'output format', options: ['table', 'json', 'csv'], default: 'table'}),
    notify: Flags.boolean({description: 'send a short summary to the alert channels'}),
  }

  async run(): Promise<Report & {notification?: ReportNotification}> {
    const context = await this.context()
    const {month, user, node, by, top, active, format, notify} = this.flags
    const report = await buildReport(
      await this.database(),
      {month, user, node, byNode: by === 'node', byInbound: by === 'inbound', top, active},
      context,
    )
    const notification = notify && report.kind === 'users' ? await this.notify(report) : undefined
    const result = notification === undefined ? report : {...report, notification}
    if (format === 'json' && !this.jsonEnabled()) {
      this.logJson(result)
    } else if (format === 'csv' && !this.jsonEnabled()) {
      process.stdout.write(reportToCsv(report))
    } else if (format === 'table' && !this.jsonEnabled()) {
      const style = await this.style()
      this.log(
        report.kind === 'users'
          ? renderUsersReport(report, style)
          : report.kind === 'nodes'
            ? renderNodesReport(report, style)
            : report.kind === 'inbounds'
              ? renderInboundsReport(report, style)
              : renderUserMonthReport(report, style),
      )
      if (notification)
        this.log(
          `\n${notification.text}${notification.error === null ? `\nsummary sent to ${notification.sentTo.join(', ')}` : ''}`,
        )
    }
    if (notification?.error) {
      this.stderr(`error: ${notification.error}`)
      process.exitCode = ExitCode.unreachable
    }
    return result
  }

  /** `--notify`: the summary goes to every alert channel; a failed channel is exit 4 after the report. */
  private async notify(report: Extract<Report, {kind: 'users'}>): Promise<ReportNotification> {
    const text = summaryText(report)
    try {
      const sent = await sendMessage(await this.database(), text, await this.context())
      return {text, sentTo: sent.map((delivery) => delivery.label), error: null}
    } catch (error) {
      if (!(error instanceof SbqError)) throw error
      return {text, sentTo: [], error: `${error.message}${error.hint ? ` (${error.hint})` : ''}`}
    }
  }
}
