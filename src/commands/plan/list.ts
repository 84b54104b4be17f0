import {SbqCommand} from '../base-command.js'
import type {PlanView} from '../../lib/plans/plan-service.js'

export default class PlanList extends SbqCommand<typeof PlanList> {
  static override summary = 'List plans and how many users each has'

  async run(): Promise<PlanView[]> {
    const [{listPlans}, {renderPlans}] = await Promise.all([import('../../lib/plans/plan-service.js'), import('../../lib/output/tables.js')])
    const plans = await listPlans(await this.database())
    this.log(renderPlans(plans, await this.style()))
    return plans
  }
}
