import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {Context} from '../../lib/context.js'
import {parseInboundsFlag} from '../../lib/domain/inbound-choice.js'
import {addPlan, type PlanInput, type PlanView} from '../../lib/plans/plan-service.js'
import {parseLimitFlags} from '../../lib/domain/limit-flags.js'
import {renderPlans} from '../../lib/output/tables.js'

export const planFlags = {
  total: Flags.string({description: 'lifetime quota'}),
  'reset-day': Flags.string({description: 'day of the month the period starts (1-31); short for --reset monthly:DAY'}),
  reset: Flags.string({
    description:
      'when the period allowance starts again: monthly[:DAY], weekly[:mon..sun], daily, yearly[:MM-DD], rolling[:30d] or never',
  }),
  'max-ips': Flags.string({description: 'distinct IPs allowed at once'}),
  inbounds: Flags.string({description: 'inbound tags its users get, comma-separated, or all (the default)'}),
}

/** The limits and the inbound choice a plan command was given. */
export function planInput(
  flags: Parameters<typeof parseLimitFlags>[0] & {inbounds?: string},
  context: Context,
): PlanInput {
  return {
    ...parseLimitFlags(flags, context),
    ...(flags.inbounds === undefined ? {} : {inbounds: parseInboundsFlag(flags.inbounds, false)}),
  }
}

export default class PlanAdd extends SbqCommand<typeof PlanAdd> {
  static override summary = 'Create a plan: limits that users on it share'
  static override description = 'There is no speed limit: neither sing-box nor Xray can enforce one per user.'
  static override examples = [
    '<%= config.bin %> plan add basic --monthly 100',
    '<%= config.bin %> plan add family --monthly 1T --max-ips 5',
  ]
  static override args = {name: Args.string({description: 'plan name', required: true})}
  static override flags = {
    monthly: Flags.string({description: 'monthly quota (e.g. 100, 1T)', required: true}),
    ...planFlags,
  }

  async run(): Promise<PlanView> {
    const context = await this.context()
    const plan = await addPlan(await this.database(), this.args.name, planInput(this.flags, context), context)
    this.log(renderPlans([plan], await this.style()))
    return plan
  }
}
