import {SbqCommand} from '../base-command.js'
import {listNodes, type NodeView} from '../../lib/nodes/node-service.js'
import {renderNodes} from '../../lib/output/node-tables.js'

export default class NodeList extends SbqCommand<typeof NodeList> {
  static override summary = 'List proxy nodes, their last pull and last error'

  async run(): Promise<NodeView[]> {
    const context = await this.context()
    const nodes = await listNodes(await this.database())
    this.log(renderNodes(nodes, context.timeZone, await this.style()))
    return nodes
  }
}
