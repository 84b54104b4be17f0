import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {NodeView} from '../../lib/nodes/node-service.js'
import type {ImportResult} from '../../lib/nodes/import-users.js'

export default class NodeAdd extends SbqCommand<typeof NodeAdd> {
  static override summary = 'Register a proxy node whose API sbq reads (and whose config it rewrites)'
  static override examples = [
    '<%= config.bin %> node add hk1 --type xray --api 127.0.0.1:10085 --config /usr/local/etc/xray/config.json --import',
    '<%= config.bin %> node add sg1 --type sing-box --api 127.0.0.1:8080 --config /etc/sing-box/config.json --inbound vless-in',
  ]
  static override args = {name: Args.string({description: 'node name', required: true})}
  static override flags = {
    type: Flags.string({description: 'proxy type', options: ['xray', 'v2ray', 'sing-box', 'sing-box-ssm'], required: true}),
    api: Flags.string({description: 'API address: HOST:PORT (gRPC), or the SSM API URL', required: true}),
    config: Flags.string({description: "the proxy's config file, whose user lists sbq keeps in line"}),
    inbound: Flags.string({description: 'inbound tag sbq manages (repeatable; default: every inbound with users)', multiple: true}),
    apply: Flags.string({description: 'command that makes the proxy take a new config [default: systemctl reload/restart <proxy>]'}),
    import: Flags.boolean({description: 'adopt the users already in --config, with their credentials'}),
    'cut-sessions': Flags.boolean({description: "restart the proxy after removing users, to end their open connections (Xray/V2Ray; drops everyone's connections)"}),
  }

  async run(): Promise<NodeView & {imported?: ImportResult}> {
    const [{addNode}, {renderNode, renderImport}] = await Promise.all([import('../../lib/nodes/node-service.js'), import('../../lib/output/node-tables.js')])
    const context = await this.context()
    const {type, api, config, inbound, apply} = this.flags
    const node = await addNode(await this.database(), {name: this.args.name, type, api, config, inbounds: inbound, apply, import: this.flags.import, cutSessions: this.flags['cut-sessions']}, context)
    this.log(renderNode(node, context.timeZone))
    if (node.imported) this.log(renderImport(node.imported))
    return node
  }
}
