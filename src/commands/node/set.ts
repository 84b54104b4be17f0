import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {type NodeView, setNode} from '../../lib/nodes/node-service.js'
import {renderNode} from '../../lib/output/node-tables.js'

export default class NodeSet extends SbqCommand<typeof NodeSet> {
  static override summary = "Change a node's settings: the address clients dial, the host interface it is compared with"
  static override args = {name: Args.string({description: 'node name', required: true})}
  static override flags = {
    'public-host': Flags.string({
      description: 'HOST or HOST:PORT clients dial, for share links (sbq user link); "" clears it',
    }),
    interface: Flags.string({
      description:
        "host network interface to compare the node's counted traffic with (setting drift-threshold), like eth0; only where sbq runs on the proxy's host; none stops comparing",
    }),
  }

  async run(): Promise<NodeView> {
    const context = await this.context()
    const node = await setNode(await this.database(), this.args.name, {
      publicHost: this.flags['public-host'],
      hostInterface: this.flags.interface,
    })
    this.log(renderNode(node, context.timeZone))
    return node
  }
}
