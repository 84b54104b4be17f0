import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {NodeSync} from '../../lib/enforcement/node-sync.js'
import {setUserStatus, type StatusChange} from '../../lib/users/user-service.js'

export default class UserDisable extends SbqCommand<typeof UserDisable> {
  static override summary = 'Disable a user by hand; quota checks never re-enable them'
  static override args = {name: Args.string({description: 'user name', required: true})}
  static override flags = {
    apply: Flags.boolean({description: 'put the change on the nodes now', default: true, allowNo: true}),
    reason: Flags.string({description: 'why, kept in the history'}),
  }

  async run(): Promise<StatusChange & {nodes: NodeSync[]}> {
    const change = await setUserStatus(
      await this.database(),
      this.args.name,
      'disabled',
      this.flags.reason ?? null,
      await this.context(),
    )
    this.log(
      change.changed ? `user "${change.name}": ${change.from} → disabled` : `user "${change.name}" is already disabled`,
    )
    return {...change, nodes: change.changed ? await this.applyToNodes(this.flags.apply) : []}
  }
}
