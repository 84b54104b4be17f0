import {Args} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {type NodeTest, testNode} from '../../lib/nodes/node-service.js'
import {renderNodeTest} from '../../lib/output/node-tables.js'

export default class NodeTestCommand extends SbqCommand<typeof NodeTestCommand> {
  static override summary = "Reach a node's API: uptime, user counters, what it supports (exit 4 if unreachable)"
  static override args = {name: Args.string({description: 'node name', required: true})}

  async run(): Promise<NodeTest> {
    const result = await testNode(await this.database(), this.args.name)
    this.log(renderNodeTest(result))
    return result
  }
}
