import {Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {UserView} from '../../lib/domain/user.js'
import {listUsers} from '../../lib/users/user-service.js'
import {renderUsers} from '../../lib/output/tables.js'

export default class UserList extends SbqCommand<typeof UserList> {
  static override summary = 'List users with their usage this period'
  static override flags = {
    status: Flags.string({
      description: 'only users with this status',
      options: ['active', 'disabled', 'limited', 'expired'],
    }),
  }

  async run(): Promise<UserView[]> {
    const context = await this.context()
    const users = await listUsers(await this.database(), {status: this.flags.status}, context)
    await this.show(async () => renderUsers(users, context.timeZone, await this.style()))
    return users
  }
}
