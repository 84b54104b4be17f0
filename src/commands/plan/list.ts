import {SbqCommand} from '../base-command.js'
import {listPlans, type PlanView} from '../../lib/plans/plan-service.js'
import {renderPlans} from '../../lib/output/tables.js'

export default class PlanList extends SbqCommand<typeof PlanList> {
  static override summary = 'List plans and how many users each has'

  async run(): Promise<PlanView[]> {
    const plans = await listPlans(await this.database())
    this.log(renderPlans(plans, await this.style()))
    return plans
  }
}
