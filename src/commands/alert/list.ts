import {SbqCommand} from '../base-command.js'
import {type ChannelView, listChannels} from '../../lib/alerts/channels.js'
import {renderChannels} from '../../lib/output/alert-tables.js'

export default class AlertList extends SbqCommand<typeof AlertList> {
  static override summary = 'List alert channels with their undelivered alerts; secrets are masked'

  async run(): Promise<ChannelView[]> {
    const context = await this.context()
    const channels = await listChannels(await this.database())
    this.log(renderChannels(channels, context.timeZone, await this.style()))
    return channels
  }
}
