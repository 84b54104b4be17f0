import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {type NodeView, setNode} from '../../lib/nodes/node-service.js'
import {renderNode} from '../../lib/output/node-tables.js'

export default class NodeSet extends SbqCommand<typeof NodeSet> {
  static override summary =
    "Change a node's settings: the address clients dial, the billing ratio, the host interface it is compared with"
  static override examples = [
    '<%= config.bin %> node set hk1 --public-host vpn.example.com',
    '<%= config.bin %> node set hk1 --ratio 0.5',
    '<%= config.bin %> node set hk1 --interface eth0',
  ]
  static override args = {name: Args.string({description: 'node name', required: true})}
  static override flags = {
    'public-host': Flags.string({
      description: 'HOST or HOST:PORT clients dial, for share links (sbq user link); "" clears it',
    }),
    ratio: Flags.string({
      description:
        'bytes billed per byte counted from now on (0.5 bills half, 2 double; up to 4 decimals, at most 100); bytes already counted keep their ratio',
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
      ratio: this.flags.ratio,
      hostInterface: this.flags.interface,
    })
    this.log(renderNode(node, context.timeZone))
    return node
  }
}
