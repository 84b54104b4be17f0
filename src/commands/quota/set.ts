import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {NodeSync} from '../../lib/enforcement/node-sync.js'
import type {UserView} from '../../lib/domain/user.js'
import {setQuota} from '../../lib/quotas/quota-service.js'
import {parseLimitFlags} from '../../lib/domain/limit-flags.js'
import {parseInboundsFlag} from '../../lib/domain/inbound-choice.js'
import {renderUser} from '../../lib/output/tables.js'

export default class QuotaSet extends SbqCommand<typeof QuotaSet> {
  static override summary = "Change a user's limits, expiry or plan"
  static override description =
    "Joining a plan (--plan NAME) clears the user's own limits unless given in the same command; --plan none leaves it."
  static override examples = [
    '<%= config.bin %> quota set alice --monthly 200',
    '<%= config.bin %> quota set alice --expires 2025-12-31 --reset-day 15',
    '<%= config.bin %> quota set alice --inbounds vless-reality,trojan-in',
    '<%= config.bin %> quota set alice --monthly 20G --reset weekly:mon',
  ]
  static override args = {name: Args.string({description: 'user name', required: true})}
  static override flags = {
    apply: Flags.boolean({description: 'put the change on the nodes now', default: true, allowNo: true}),
    monthly: Flags.string({description: 'monthly quota (e.g. 100, 512M, 1T, unlimited)'}),
    total: Flags.string({description: 'lifetime quota'}),
    'reset-day': Flags.string({
      description: 'day of the month the period starts (1-31); short for --reset monthly:DAY',
    }),
    reset: Flags.string({
      description:
        'when the period allowance starts again: monthly[:DAY], weekly[:mon..sun], daily, yearly[:MM-DD], rolling[:30d] or never',
    }),
    'max-ips': Flags.string({description: 'distinct IPs allowed at once'}),
    expires: Flags.string({description: 'expiry: a date, a duration (30d, 1mo) or never'}),
    from: Flags.string({
      description: 'when an --expires duration starts: now (default) or first-use (the first counted byte)',
    }),
    'first-use-by': Flags.string({
      description:
        'with --from first-use: when the clock starts anyway for a user who has not connected (14d, 2025-07-01)',
    }),
    plan: Flags.string({description: 'plan to join, or none'}),
    inbounds: Flags.string({
      description: "inbound tags the user gets, comma-separated; all; or plan (the plan's choice again)",
    }),
  }

  async run(): Promise<UserView & {nodes: NodeSync[]}> {
    const context = await this.context()
    const limits = parseLimitFlags(this.flags, context)
    const plan = this.flags.plan === undefined ? undefined : this.flags.plan === 'none' ? null : this.flags.plan
    const inbounds = this.flags.inbounds === undefined ? undefined : parseInboundsFlag(this.flags.inbounds, true)
    const user = await setQuota(await this.database(), this.args.name, {...limits, plan, inbounds}, context)
    this.log(renderUser(user, context.timeZone, await this.style()))
    return {...user, nodes: await this.applyToNodes(this.flags.apply)}
  }
}
