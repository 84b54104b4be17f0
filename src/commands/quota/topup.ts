import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {NodeSync} from '../../lib/enforcement/node-sync.js'
import type {UserView} from '../../lib/domain/user.js'
import {topUp} from '../../lib/quotas/quota-service.js'
import {parseSize} from '../../lib/domain/size.js'
import {packageValidUntil} from '../../lib/domain/expiry.js'
import {renderUser} from '../../lib/output/tables.js'

export default class QuotaTopup extends SbqCommand<typeof QuotaTopup> {
  static override summary = "Add traffic to the current period's allowance, or a package that outlives it (--valid)"
  static override description =
    'Without --valid the bytes count in the current period only. With --valid the bytes are a traffic package: spent once the period allowance is used, kept across resets until used up or past its validity.'
  static override examples = [
    '<%= config.bin %> quota topup alice 50 --note "paid 2024-05-03"',
    '<%= config.bin %> quota topup alice 50G --valid 90d',
  ]
  static override args = {
    name: Args.string({description: 'user name', required: true}),
    size: Args.string({description: 'how much to add: a bare number is GiB (50), or 500M, 1T', required: true}),
  }
  static override flags = {
    apply: Flags.boolean({description: 'put the change on the nodes now', default: true, allowNo: true}),
    note: Flags.string({description: 'kept with the top-up'}),
    valid: Flags.string({
      description: 'make it a traffic package valid for this long (90d, 1y) or until a date (2025-06-30), or never',
    }),
  }

  async run(): Promise<UserView & {nodes: NodeSync[]}> {
    const context = await this.context()
    const bytes = parseSize(this.args.size, 'top-up size')
    const validUntil =
      this.flags.valid === undefined ? undefined : packageValidUntil(this.flags.valid, context.now, context.timeZone)
    const user = await topUp(await this.database(), this.args.name, bytes, this.flags.note ?? null, context, validUntil)
    this.log(renderUser(user, context.timeZone, await this.style()))
    return {...user, nodes: await this.applyToNodes(this.flags.apply)}
  }
}
