import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {type InformSecret, rotateInformToken} from '../../lib/nodes/node-service.js'
import {renderInformUri} from '../../lib/output/node-tables.js'

export default class NodeRotateToken extends SbqCommand<typeof NodeRotateToken> {
  static override summary = 'Give a 3x-ui node a new inform token; the old URL stops working at once'
  static override examples = [
    '<%= config.bin %> node rotate-token de1',
    '<%= config.bin %> node rotate-token de1 --public-url https://sbq.example.com',
  ]
  static override args = {name: Args.string({description: 'node name', required: true})}
  static override flags = {
    'public-url': Flags.string({
      description: 'the base URL 3x-ui reaches sbq serve at [default: the one the node was added with]',
    }),
  }

  async run(): Promise<{name: string} & InformSecret> {
    const rotated = await rotateInformToken(await this.database(), this.args.name, this.flags['public-url'])
    this.log(rotated.informUri)
    for (const line of renderInformUri(rotated.informUri).slice(1)) this.stderr(line)
    return rotated
  }
}
