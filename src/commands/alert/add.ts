import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {addChannel, type ChannelView} from '../../lib/alerts/channels.js'
import {renderChannels} from '../../lib/output/alert-tables.js'

export default class AlertAdd extends SbqCommand<typeof AlertAdd> {
  static override summary = 'Add a channel that alerts are sent to: a webhook or a Telegram chat'
  static override description =
    'Webhooks get a JSON POST, signed with X-Sbq-Signature: sha256=<HMAC-SHA256 of the body> when --secret is set. Secrets and tokens are kept in the database and never shown whole.'
  static override examples = [
    '<%= config.bin %> alert add webhook https://example.com/sbq-hook --secret s3cret',
    '<%= config.bin %> alert add telegram --token 123456:ABC-DEF --chat 987654321',
  ]
  static override args = {
    type: Args.string({description: 'channel type', required: true, options: ['webhook', 'telegram']}),
    url: Args.string({description: 'webhook URL (webhook only)'}),
  }
  static override flags = {
    secret: Flags.string({description: 'webhook signing secret'}),
    token: Flags.string({description: 'Telegram bot token (from BotFather)'}),
    chat: Flags.string({description: 'Telegram chat id or @channel'}),
  }

  async run(): Promise<ChannelView> {
    const context = await this.context()
    const channel = await addChannel(
      await this.database(),
      {
        type: this.args.type,
        url: this.args.url,
        secret: this.flags.secret,
        token: this.flags.token,
        chat: this.flags.chat,
      },
      context,
    )
    this.log(renderChannels([channel], context.timeZone, await this.style()))
    return channel
  }
}
