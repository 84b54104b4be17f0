import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {planFlags} from './add.js'
import {type PlanView, setPlan} from '../../lib/plans/plan-service.js'
import {parseLimitFlags} from '../../lib/domain/limit-flags.js'
import {renderPlans} from '../../lib/output/tables.js'

export default class PlanSet extends SbqCommand<typeof PlanSet> {
  static override summary = "Change a plan's limits; its users take them unless they have their own"
  static override args = {name: Args.string({description: 'plan name', required: true})}
  static override flags = {monthly: Flags.string({description: 'monthly quota'}), ...planFlags}

  async run(): Promise<PlanView> {
    const context = await this.context()
    const plan = await setPlan(await this.database(), this.args.name, parseLimitFlags(this.flags, context), context)
    this.log(renderPlans([plan], await this.style()))
    return plan
  }
}
