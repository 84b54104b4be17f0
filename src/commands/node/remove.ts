import {Args} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {removeNode} from '../../lib/nodes/node-service.js'

export default class NodeRemove extends SbqCommand<typeof NodeRemove> {
  static override summary = 'Forget a node (its counted traffic stays in the ledger)'
  static override args = {name: Args.string({description: 'node name', required: true})}

  async run(): Promise<{name: string; removed: true}> {
    const result = await removeNode(await this.database(), this.args.name)
    this.log(`removed node "${result.name}"`)
    return result
  }
}
