import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {NodeSync} from '../../lib/enforcement/node-sync.js'
import {setUserStatus, type StatusChange} from '../../lib/users/user-service.js'

export default class UserEnable extends SbqCommand<typeof UserEnable> {
  static override summary = 'Make a disabled, limited or expired user active again'
  static override description = 'A user still over quota or past expiry is limited again by the next sbq check.'
  static override flags = {
    apply: Flags.boolean({description: 'put the change on the nodes now', default: true, allowNo: true}),
  }
  static override args = {name: Args.string({description: 'user name', required: true})}

  async run(): Promise<StatusChange & {nodes: NodeSync[]}> {
    const change = await setUserStatus(await this.database(), this.args.name, 'active', null, await this.context())
    this.log(
      change.changed ? `user "${change.name}": ${change.from} → active` : `user "${change.name}" is already active`,
    )
    return {...change, nodes: change.changed ? await this.applyToNodes(this.flags.apply) : []}
  }
}
