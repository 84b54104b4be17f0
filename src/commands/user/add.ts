import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {NodeSync} from '../../lib/enforcement/node-sync.js'
import {addUser, type UserWithCredentials} from '../../lib/users/user-service.js'
import {parseLimitFlags} from '../../lib/domain/limit-flags.js'
import {parseInboundsFlag} from '../../lib/domain/inbound-choice.js'
import {renderUser, renderCredentials} from '../../lib/output/tables.js'

export default class UserAdd extends SbqCommand<typeof UserAdd> {
  static override summary = 'Create a user with fresh credentials and a quota'
  static override description =
    'Sizes: a bare number is GiB; K, M, G, T are powers of 1024; 0 or "unlimited" means no limit.'
  static override examples = [
    '<%= config.bin %> user add alice --monthly 100',
    '<%= config.bin %> user add bob --plan basic --expires 30d',
  ]

  static override args = {
    name: Args.string({description: 'user name, also their email/name on every proxy', required: true}),
  }
  static override flags = {
    apply: Flags.boolean({description: 'put the change on the nodes now', default: true, allowNo: true}),
    monthly: Flags.string({description: 'monthly quota (e.g. 100, 512M, 1T)'}),
    total: Flags.string({description: 'lifetime quota'}),
    'reset-day': Flags.string({
      description: 'day of the month the period starts (1-31); short for --reset monthly:DAY',
    }),
    reset: Flags.string({
      description:
        'when the period allowance starts again: monthly[:DAY], weekly[:mon..sun], daily, yearly[:MM-DD], rolling[:30d] or never',
    }),
    'max-ips': Flags.string({description: 'distinct IPs allowed at once (checked on Xray nodes)'}),
    expires: Flags.string({description: 'expiry: a date (2025-06-30), a duration (30d, 1mo) or never'}),
    from: Flags.string({
      description: 'when an --expires duration starts: now (default) or first-use (the first counted byte)',
    }),
    'first-use-by': Flags.string({
      description:
        'with --from first-use: when the clock starts anyway for a user who has not connected (14d, 2025-07-01)',
    }),
    plan: Flags.string({description: 'plan whose limits the user takes'}),
    note: Flags.string({description: 'free text kept with the user'}),
    uuid: Flags.string({description: 'bring an existing UUID instead of generating one'}),
    password: Flags.string({description: 'bring an existing password instead of generating one'}),
    inbounds: Flags.string({
      description:
        "inbound tags the user gets, comma-separated, or all (default: the plan's, else every managed inbound)",
    }),
  }

  async run(): Promise<UserWithCredentials & {nodes: NodeSync[]}> {
    const context = await this.context()
    const {monthlyQuota, totalQuota, reset, maxIps, expiresAt, firstUse} = parseLimitFlags(this.flags, context)
    const {name} = this.args
    const {plan, note, uuid, password} = this.flags
    const inbounds = this.flags.inbounds === undefined ? undefined : parseInboundsFlag(this.flags.inbounds, true)
    const user = await addUser(
      await this.database(),
      {name, monthlyQuota, totalQuota, reset, maxIps, expiresAt, firstUse, plan, note, uuid, password, inbounds},
      context,
    )
    const style = await this.style()
    this.log(
      `${renderUser(user, context.timeZone, style)}\n\n${style.bold('credentials')}\n${renderCredentials(user.credentials)}`,
    )
    return {...user, nodes: await this.applyToNodes(this.flags.apply)}
  }
}
