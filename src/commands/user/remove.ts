import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {NodeSync} from '../../lib/enforcement/node-sync.js'
import {removeUser} from '../../lib/users/user-service.js'

export default class UserRemove extends SbqCommand<typeof UserRemove> {
  static override summary = 'Remove a user (their events stay in the history)'
  static override flags = {
    apply: Flags.boolean({description: 'put the change on the nodes now', default: true, allowNo: true}),
  }
  static override args = {name: Args.string({description: 'user name', required: true})}
  static override resolvesNameClash = true

  async run(): Promise<{name: string; removed: true} & {nodes: NodeSync[]}> {
    const result = await removeUser(await this.database(), this.args.name, await this.context())
    this.log(`removed user "${result.name}"`)
    return {...result, nodes: await this.applyToNodes(this.flags.apply)}
  }
}
