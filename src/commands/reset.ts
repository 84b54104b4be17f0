import {Args, Flags} from '@oclif/core'

import {SbqCommand} from './base-command.js'
import {type ResetResult, resetUsage} from '../lib/quotas/reset-usage.js'
import type {NodeSync} from '../lib/enforcement/node-sync.js'
import {renderChanges} from '../lib/output/check-tables.js'

export default class Reset extends SbqCommand<typeof Reset> {
  static override summary = "Start the current period's count from zero (history is kept)"
  static override description =
    "A user limited by this period's usage becomes active and goes back on the proxies at once."
  static override examples = ['<%= config.bin %> reset alice', '<%= config.bin %> reset --all']
  static override args = {name: Args.string({description: 'user name'})}
  static override flags = {
    all: Flags.boolean({description: 'reset every user'}),
    apply: Flags.boolean({description: 'put the change on the nodes now', default: true, allowNo: true}),
  }

  async run(): Promise<ResetResult & {nodes: NodeSync[]}> {
    const context = await this.context()
    const result = await resetUsage(await this.database(), {name: this.args.name, all: this.flags.all}, context)
    this.log(
      `reset the period usage of ${result.reset.length === 1 ? `user "${result.reset[0]}"` : `${result.reset.length} users`}`,
    )
    for (const line of renderChanges(result.changes, await this.style())) this.log(line)
    return {...result, nodes: await this.applyToNodes(this.flags.apply)}
  }
}
