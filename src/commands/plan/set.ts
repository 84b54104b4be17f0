import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {planFlags} from './add.js'
import type {PlanView} from '../../lib/plans/plan-service.js'

export default class PlanSet extends SbqCommand<typeof PlanSet> {
  static override summary = "Change a plan's limits; its users take them unless they have their own"
  static override args = {name: Args.string({description: 'plan name', required: true})}
  static override flags = {monthly: Flags.string({description: 'monthly quota'}), ...planFlags}

  async run(): Promise<PlanView> {
    const [{setPlan}, {parseLimitFlags}, {renderPlans}] = await Promise.all([
      import('../../lib/plans/plan-service.js'),
      import('../../lib/domain/limit-flags.js'),
      import('../../lib/output/tables.js'),
    ])
    const context = await this.context()
    const plan = await setPlan(await this.database(), this.args.name, parseLimitFlags(this.flags, context), context)
    this.log(renderPlans([plan], await this.style()))
    return plan
  }
}
