import {Args} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {NodeTest} from '../../lib/nodes/node-service.js'

export default class NodeTestCommand extends SbqCommand<typeof NodeTestCommand> {
  static override summary = "Reach a node's API: uptime, user counters, what it supports (exit 4 if unreachable)"
  static override args = {name: Args.string({description: 'node name', required: true})}

  async run(): Promise<NodeTest> {
    const [{testNode}, {renderNodeTest}] = await Promise.all([import('../../lib/nodes/node-service.js'), import('../../lib/output/node-tables.js')])
    const result = await testNode(await this.database(), this.args.name)
    this.log(renderNodeTest(result))
    return result
  }
}
