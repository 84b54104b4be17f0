import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {NodeSync} from '../../lib/enforcement/node-sync.js'
import type {UserView} from '../../lib/domain/user.js'
import {topUp} from '../../lib/quotas/quota-service.js'
import {parseSize} from '../../lib/domain/size.js'
import {renderUser} from '../../lib/output/tables.js'

export default class QuotaTopup extends SbqCommand<typeof QuotaTopup> {
  static override summary = "Add a traffic package to the current period's allowance"
  static override examples = ['<%= config.bin %> quota topup alice 50 --note "paid 2024-05-03"']
  static override args = {
    name: Args.string({description: 'user name', required: true}),
    size: Args.string({description: 'how much to add: a bare number is GiB (50), or 500M, 1T', required: true}),
  }
  static override flags = {
    apply: Flags.boolean({description: 'put the change on the nodes now', default: true, allowNo: true}),
    note: Flags.string({description: 'kept with the top-up'}),
  }

  async run(): Promise<UserView & {nodes: NodeSync[]}> {
    const context = await this.context()
    const bytes = parseSize(this.args.size, 'top-up size')
    const user = await topUp(await this.database(), this.args.name, bytes, this.flags.note ?? null, context)
    this.log(renderUser(user, context.timeZone, await this.style()))
    return {...user, nodes: await this.applyToNodes(this.flags.apply)}
  }
}
