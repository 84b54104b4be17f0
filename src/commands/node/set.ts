import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {type NodeView, setNode} from '../../lib/nodes/node-service.js'
import {renderNode} from '../../lib/output/node-tables.js'

export default class NodeSet extends SbqCommand<typeof NodeSet> {
  static override summary = "Change a node's settings: the address clients dial"
  static override args = {name: Args.string({description: 'node name', required: true})}
  static override flags = {
    'public-host': Flags.string({
      description: 'HOST or HOST:PORT clients dial, for share links (sbq user link); "" clears it',
    }),
  }

  async run(): Promise<NodeView> {
    const context = await this.context()
    const node = await setNode(await this.database(), this.args.name, {publicHost: this.flags['public-host']})
    this.log(renderNode(node, context.timeZone))
    return node
  }
}
