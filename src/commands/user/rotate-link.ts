import {Args} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {renderSubscription} from '../../lib/output/link-tables.js'
import {rotateSubscription, type SubscriptionAddress} from '../../lib/share-links/subscription.js'

export default class UserRotateLink extends SbqCommand<typeof UserRotateLink> {
  static override summary = 'Give a user a new subscription URL; the old one stops working at once'
  static override args = {name: Args.string({description: 'user name', required: true})}

  async run(): Promise<{user: string; subscription: SubscriptionAddress}> {
    const rotated = await rotateSubscription(await this.database(), this.args.name, await this.context())
    this.log(renderSubscription(rotated.subscription))
    return rotated
  }
}
