import {Args} from '@oclif/core'

import {SbqCommand} from '../base-command.js'

export default class UserRemove extends SbqCommand<typeof UserRemove> {
  static override summary = 'Remove a user (their events stay in the history)'
  static override args = {name: Args.string({description: 'user name', required: true})}

  async run(): Promise<{name: string; removed: true}> {
    const {removeUser} = await import('../../lib/users/user-service.js')
    const result = await removeUser(await this.database(), this.args.name, await this.context())
    this.log(`removed user "${result.name}"`)
    return result
  }
}
