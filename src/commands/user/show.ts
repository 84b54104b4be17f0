import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {showUser, type UserDetail} from '../../lib/users/user-service.js'
import {renderUserDetail} from '../../lib/output/tables.js'

export default class UserShow extends SbqCommand<typeof UserShow> {
  static override summary = 'Show one user: limits, usage, top-ups and recent events'
  static override args = {name: Args.string({description: 'user name', required: true})}
  static override flags = {secrets: Flags.boolean({description: 'include the credentials'})}
  static override resolvesNameClash = true

  async run(): Promise<UserDetail> {
    const context = await this.context()
    const user = await showUser(await this.database(), this.args.name, {secrets: this.flags.secrets}, context)
    this.log(renderUserDetail(user, context.timeZone, await this.style()))
    return user
  }
}
