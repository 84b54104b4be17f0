import {Args} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {type NodeView, showNode} from '../../lib/nodes/node-service.js'
import {renderNode} from '../../lib/output/node-tables.js'

export default class NodeShow extends SbqCommand<typeof NodeShow> {
  static override summary = 'Show one node'
  static override args = {name: Args.string({description: 'node name', required: true})}

  async run(): Promise<NodeView> {
    const context = await this.context()
    const node = await showNode(await this.database(), this.args.name)
    this.log(renderNode(node, context.timeZone))
    return node
  }
}
