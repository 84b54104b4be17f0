import {SbqCommand} from '../base-command.js'
import type {ChannelView} from '../../lib/alerts/channels.js'

export default class AlertList extends SbqCommand<typeof AlertList> {
  static override summary = 'List alert channels with their undelivered alerts; secrets are masked'

  async run(): Promise<ChannelView[]> {
    const [{listChannels}, {renderChannels}] = await Promise.all([import('../../lib/alerts/channels.js'), import('../../lib/output/alert-tables.js')])
    const context = await this.context()
    const channels = await listChannels(await this.database())
    this.log(renderChannels(channels, context.timeZone, await this.style()))
    return channels
  }
}
