import {Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {ExitCode} from '../../lib/errors.js'
import {pullNodes, type PullResult} from '../../lib/accounting/pull.js'
import {driftWarnings, renderPull} from '../../lib/output/node-tables.js'

export default class StatsPull extends SbqCommand<typeof StatsPull> {
  static override summary = "Read every node's per-user counters into the ledger (exit 4 if any node failed)"
  static override flags = {node: Flags.string({description: 'pull only this node'})}

  async run(): Promise<PullResult> {
    const result = await pullNodes(await this.database(), {node: this.flags.node}, await this.context())
    this.log(renderPull(result, await this.style()))
    for (const node of result.nodes) if (!node.ok) this.stderr(`error: node "${node.name}": ${node.error}`)
    for (const line of driftWarnings(result.nodes, {onlyNew: false})) this.stderr(line)
    if (result.nodes.some((node) => !node.ok)) process.exitCode = ExitCode.unreachable
    return result
  }
}
