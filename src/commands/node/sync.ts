import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {ExitCode} from '../../lib/errors.js'
import type {NodeSync} from '../../lib/enforcement/node-sync.js'
import {syncNodes} from '../../lib/enforcement/sync-nodes.js'
import {renderNodeSyncs, nodeErrors} from '../../lib/output/check-tables.js'

export default class NodeSyncCommand extends SbqCommand<typeof NodeSyncCommand> {
  static override summary = 'Push the full set of active users to a node (first setup, or after a reinstall)'
  static override args = {name: Args.string({description: 'node name (default: every node)'})}
  static override flags = {'dry-run': Flags.boolean({description: 'show what would be pushed; change nothing'})}

  async run(): Promise<NodeSync[]> {
    const nodes = await syncNodes(
      await this.database(),
      {node: this.args.name, full: true, dryRun: this.flags['dry-run']},
      await this.context(),
    )
    for (const line of renderNodeSyncs(nodes, await this.style())) this.log(line)
    const errors = nodeErrors(nodes)
    for (const line of errors) this.stderr(line)
    if (errors.length > 0) process.exitCode = ExitCode.unreachable
    return nodes
  }
}
