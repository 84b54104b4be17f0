import {Args} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {sendTestAlerts, type TestDelivery} from '../../lib/alerts/deliver.js'
import {renderTestDeliveries} from '../../lib/output/alert-tables.js'

export default class AlertTest extends SbqCommand<typeof AlertTest> {
  static override summary = 'Send a test alert through one channel or all of them'
  static override description =
    'Exits 4 if any channel does not take the message, naming the channel and the reason. SBQ_TELEGRAM_API replaces the Telegram API base URL (https://api.telegram.org), for tests or an API proxy.'
  static override args = {id: Args.string({description: 'channel id (default: every channel)'})}

  async run(): Promise<TestDelivery[]> {
    const deliveries = await sendTestAlerts(await this.database(), this.args.id, await this.context())
    this.log(renderTestDeliveries(deliveries, await this.style()))
    return deliveries
  }
}
