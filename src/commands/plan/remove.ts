import {Args} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {removePlan} from '../../lib/plans/plan-service.js'

export default class PlanRemove extends SbqCommand<typeof PlanRemove> {
  static override summary = 'Remove a plan that no user is on'
  static override args = {name: Args.string({description: 'plan name', required: true})}

  async run(): Promise<{name: string; removed: true}> {
    const result = await removePlan(await this.database(), this.args.name)
    this.log(`removed plan "${result.name}"`)
    return result
  }
}
