import {Flags} from '@oclif/core'

import {SbqCommand} from './base-command.js'
import {type PruneResult, pruneUsage} from '../lib/reports/prune.js'
import {renderPruneResult} from '../lib/output/report-tables.js'

export default class PruneCommand extends SbqCommand<typeof PruneCommand> {
  static override summary = 'Fold old daily usage into monthly totals and delete the daily rows'
  static override description =
    "Only whole months are folded: the cut-off is rounded down to its month's first day. Reports for pruned months show " +
    'the same totals (no longer split by day). Running totals, events and top-ups are kept.'
  static override examples = ['<%= config.bin %> prune --keep-days 400', '<%= config.bin %> prune --before 2024-01-01']
  static override flags = {
    before: Flags.string({description: 'fold daily rows before this date (YYYY-MM-DD)', exclusive: ['keep-days']}),
    'keep-days': Flags.integer({description: 'keep this many days of daily rows', min: 0}),
  }

  async run(): Promise<PruneResult> {
    const context = await this.context()
    const result = await pruneUsage(
      await this.database(),
      {before: this.flags.before, keepDays: this.flags['keep-days']},
      context,
    )
    this.log(renderPruneResult(result))
    return result
  }
}
