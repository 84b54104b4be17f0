import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {addNode, type InformSecret, nodeTypes, type NodeView} from '../../lib/nodes/node-service.js'
import type {ImportResult} from '../../lib/nodes/import-users.js'
import {renderNode, renderImport, renderInformUri} from '../../lib/output/node-tables.js'

export default class NodeAdd extends SbqCommand<typeof NodeAdd> {
  static override summary =
    'Register a proxy node whose API sbq reads (and whose config it rewrites), or a 3x-ui node that reports to sbq serve'
  static override examples = [
    '<%= config.bin %> node add hk1 --type xray --api 127.0.0.1:10085 --config /usr/local/etc/xray/config.json --import',
    '<%= config.bin %> node add sg1 --type sing-box --api 127.0.0.1:8080 --config /etc/sing-box/config.json --inbound vless-in',
    '<%= config.bin %> node add de1 --type 3x-ui --public-url https://sbq.example.com --panel-url https://de1.example.com:2053/panel-path --panel-user admin',
    '<%= config.bin %> node add hk2 --type xray --api 127.0.0.1:10085 --inform https://sbq.example.com/inform/hk2/TOKEN',
  ]
  static override args = {name: Args.string({description: 'node name', required: true})}
  static override flags = {
    type: Flags.string({description: 'proxy type', options: [...nodeTypes], required: true}),
    api: Flags.string({description: 'API address: HOST:PORT (gRPC), or the SSM API URL (every type but 3x-ui)'}),
    config: Flags.string({description: "the proxy's config file, whose user lists sbq keeps in line"}),
    inbound: Flags.string({
      description: 'inbound tag sbq manages (repeatable; default: every inbound with users)',
      multiple: true,
    }),
    apply: Flags.string({
      description: 'command that makes the proxy take a new config [default: systemctl reload/restart <proxy>]',
    }),
    import: Flags.boolean({description: 'adopt the users already in --config, with their credentials'}),
    'cut-sessions': Flags.boolean({
      description:
        "restart the proxy after removing users, to end their open connections (Xray/V2Ray; drops everyone's connections)",
    }),
    inform: Flags.string({
      description: "push every pull's per-user traffic to this central sbq serve URL (its node's inform URI)",
    }),
    'public-host': Flags.string({
      description:
        'HOST or HOST:PORT clients dial, for share links (sbq user link) [default: each inbound its own port]',
    }),
    ratio: Flags.string({
      description:
        'bytes billed per byte the node counts: 0.5 bills half, 2 double (up to 4 decimals, at most 100) [default: 1]',
    }),
    interface: Flags.string({
      description:
        "host network interface to compare the node's counted traffic with (setting drift-threshold), like eth0; only where sbq runs on the proxy's host",
    }),
    'public-url': Flags.string({
      description:
        '3x-ui: the base URL 3x-ui reaches sbq serve at (https, behind a reverse proxy) [default: http://127.0.0.1:8787]',
    }),
    'panel-url': Flags.string({
      description: "3x-ui: the panel's URL with its web base path, so sbq can switch clients off and on",
    }),
    'panel-user': Flags.string({description: '3x-ui: panel user name'}),
    'panel-password': Flags.string({description: '3x-ui: panel password', env: 'SBQ_PANEL_PASSWORD'}),
  }

  async run(): Promise<NodeView & {imported?: ImportResult; warnings?: string[]} & Partial<InformSecret>> {
    const context = await this.context()
    const {type, api, config, inbound, apply, inform} = this.flags
    const panel = {url: this.flags['panel-url'], user: this.flags['panel-user'], password: this.flags['panel-password']}
    const node = await addNode(
      await this.database(),
      {
        name: this.args.name,
        type,
        api,
        config,
        inbounds: inbound,
        apply,
        import: this.flags.import,
        cutSessions: this.flags['cut-sessions'],
        inform,
        publicUrl: this.flags['public-url'],
        publicHost: this.flags['public-host'],
        ratio: this.flags.ratio,
        hostInterface: this.flags.interface,
        panel,
      },
      context,
    )
    this.log(renderNode(node, context.timeZone))
    for (const warning of node.warnings ?? []) this.stderr(`warning: ${warning}`)
    if (node.imported) this.log(renderImport(node.imported))
    if (node.informUri) for (const line of renderInformUri(node.informUri)) this.log(line)
    return node
  }
}
