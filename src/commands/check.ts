import {Flags} from '@oclif/core'

import {SbqCommand} from './base-command.js'
import {ExitCode} from '../lib/errors.js'
import {type CheckResult, runCheck} from '../lib/enforcement/run-check.js'
import {renderChanges, renderNodeSyncs, nodeErrors} from '../lib/output/check-tables.js'
import {driftWarnings} from '../lib/output/node-tables.js'

export default class Check extends SbqCommand<typeof Check> {
  static override summary = 'Pull, then limit, expire and re-enable users and put every proxy in line (for cron)'
  static override description =
    'Silent when nothing changed, so cron mails nothing. Exit 4 when a node could not be pulled or changed.\n\n' +
    'With --node (repeatable), only the named nodes are pulled, put in line and asked for online IPs, while every ' +
    'user is still judged on their usage over all nodes: each proxy host of a fleet on one PostgreSQL database checks ' +
    'its own node. A run holds a lock per node it pulls, so checks of different nodes never wait for each other.'
  static override examples = ['* * * * * root sbq check', '* * * * * root sbq check --node tokyo']
  static override flags = {
    'dry-run': Flags.boolean({description: 'show what would change; change nothing'}),
    pull: Flags.boolean({description: 'pull every node first', default: true, allowNo: true}),
    quiet: Flags.boolean({description: 'print nothing but errors'}),
    node: Flags.string({
      description: "pull and put in line only this node (repeatable); users are judged on every node's usage",
      multiple: true,
    }),
  }

  async run(): Promise<CheckResult> {
    const dryRun = this.flags['dry-run']
    const result = await runCheck(
      await this.database(),
      {dryRun, pull: this.flags.pull, lockWaitMs: 5000, nodes: this.flags.node},
      await this.context('check'),
    )
    const style = await this.style()
    if (result.skipped) {
      if (!this.flags.quiet) this.stderr(result.skipped.reason)
      return result
    }
    if (!this.flags.quiet)
      for (const line of [...renderChanges(result.changes, style, dryRun), ...renderNodeSyncs(result.nodes, style)])
        this.log(line)
    const errors = [
      ...result.pulls
        .filter((pull) => !pull.ok)
        .map((pull) => `error: node "${pull.name}" could not be pulled: ${pull.error}`),
      ...nodeErrors(result.nodes),
    ]
    for (const line of errors) this.stderr(line)
    for (const line of driftWarnings(result.pulls, {onlyNew: true})) this.stderr(line)
    for (const failure of result.sharingErrors)
      this.stderr(`warning: node "${failure.node}": online IPs could not be read: ${failure.error}`)
    for (const failure of result.alerts.failed)
      this.stderr(
        `warning: alert channel ${failure.channel} failed: ${failure.error} (${failure.alerts} alert(s) kept for the next run)`,
      )
    if (errors.length > 0) process.exitCode = ExitCode.unreachable
    return result
  }
}
