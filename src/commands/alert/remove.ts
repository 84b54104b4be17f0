import {Args} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {removeChannel} from '../../lib/alerts/channels.js'

export default class AlertRemove extends SbqCommand<typeof AlertRemove> {
  static override summary = 'Remove an alert channel and the alerts it still owes'
  static override args = {id: Args.string({description: 'channel id (see sbq alert list)', required: true})}

  async run(): Promise<{id: number; removed: true}> {
    const result = await removeChannel(await this.database(), this.args.id)
    this.log(`removed alert channel ${result.id}`)
    return result
  }
}
