import {Args, Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {inactiveUserNote, renderUserLinks} from '../../lib/output/link-tables.js'
import type {SubscriptionAddress} from '../../lib/share-links/subscription.js'
import {userLinks, type UserLinks} from '../../lib/share-links/user-links.js'

export default class UserLink extends SbqCommand<typeof UserLink> {
  static override summary =
    "Print a user's share links (vless, vmess, trojan, ss, hysteria2, tuic, anytls, naive), one per inbound"
  static override description =
    "Built from each node's config file and its public host (sbq node set NAME --public-host HOST). " +
    'Clients such as v2rayN, v2rayNG, Shadowrocket and Hiddify import them.'
  static override args = {name: Args.string({description: 'user name', required: true})}
  static override flags = {
    node: Flags.string({description: "only this node's links"}),
    qr: Flags.boolean({description: 'draw each link as a QR code in the terminal'}),
    'qr-png': Flags.string({
      description:
        'also write each QR code as a PNG file into this directory (made if missing, in a parent that exists; files mode 0600)',
    }),
  }

  async run(): Promise<UserLinks & {subscription: SubscriptionAddress}> {
    const result = await userLinks(
      await this.database(),
      this.args.name,
      {node: this.flags.node, qrPngDir: this.flags['qr-png']},
      await this.context(),
    )
    const note = inactiveUserNote(result)
    if (note !== null) this.stderr(note)
    const style = await this.style()
    await this.show(() => renderUserLinks(result, style, {qr: this.flags.qr}))
    return result
  }
}
