import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import type {NodeSync} from '../../lib/enforcement/node-sync.js'
import {planFlags, planInput} from './add.js'
import {type PlanView, setPlan} from '../../lib/plans/plan-service.js'
import {renderPlans} from '../../lib/output/tables.js'

export default class PlanSet extends SbqCommand<typeof PlanSet> {
  static override summary = "Change a plan's limits; its users take them unless they have their own"
  static override args = {name: Args.string({description: 'plan name', required: true})}
  static override flags = {
    apply: Flags.boolean({
      description: 'put a new inbound choice on the nodes now (else the next check does)',
      default: true,
      allowNo: true,
    }),
    monthly: Flags.string({description: 'monthly quota'}),
    ...planFlags,
  }

  async run(): Promise<PlanView & {nodes: NodeSync[]}> {
    const context = await this.context()
    const plan = await setPlan(await this.database(), this.args.name, planInput(this.flags, context), context)
    this.log(renderPlans([plan], await this.style()))
    return {...plan, nodes: await this.applyToNodes(this.flags.apply && this.flags.inbounds !== undefined)}
  }
}
