import type {ChalkInstance} from 'chalk'

import type {SubscriptionAddress} from '../share-links/subscription.js'
import type {UserLinks} from '../share-links/user-links.js'

/**
 * Each link alone on its line, under a heading naming the node, the inbound and the protocol: links are for copying,
 * and a table would wrap them. With `qr`, each link's QR code follows it.
 */
export async function renderUserLinks(
  result: UserLinks & {subscription?: SubscriptionAddress},
  style: ChalkInstance,
  options: {qr?: boolean} = {},
): Promise<string> {
  const blocks: string[] = []
  for (const node of result.nodes) {
    if (node.reason !== null) {
      blocks.push(style.dim(`${node.node}: no links: ${node.reason}`))
      continue
    }
    for (const entry of node.links) {
      const heading = style.bold(`${node.node}  ${entry.tag}  ${entry.protocol}`)
      if (!('link' in entry)) {
        blocks.push(`${heading}\n${style.dim(`no link: ${entry.reason}`)}`)
        continue
      }
      const lines = [heading, entry.link]
      if (options.qr === true) lines.push(await terminalQr(entry.link, style.level > 0))
      if (entry.png !== undefined) lines.push(`qr code: ${entry.png}`)
      blocks.push(lines.join('\n'))
    }
  }
  if (result.subscription !== undefined) blocks.push(renderSubscription(result.subscription))
  return blocks.join('\n\n')
}

export function renderSubscription(subscription: SubscriptionAddress): string {
  return subscription.url !== null && subscription.pageUrl !== null
    ? `subscription: ${subscription.url}\nuser page:    ${subscription.pageUrl}`
    : `subscription: ${subscription.path} on sbq serve (sbq config set subscription-url https://HOST prints the whole URL)\nuser page:    ${subscription.pagePath} on sbq serve`
}

/**
 * Two modules a character. At a terminal, black on white whatever the terminal's colours (a phone reads dark modules
 * on light); into a pipe or a file, no escape codes: light text on the page's own dark-on-light.
 */
async function terminalQr(link: string, colour: boolean): Promise<string> {
  // Loaded only here: most runs draw no QR code.
  const {default: qrcode} = await import('qrcode')
  const drawn = await qrcode.toString(link, {
    type: colour ? 'terminal' : 'utf8',
    small: true,
    errorCorrectionLevel: 'M',
  })
  // The terminal form ends with a line of colour codes only, which would print as an empty line.
  return drawn
    .split('\n')
    .filter((line) => line.replace(ansiCodes, '') !== '')
    .join('\n')
}

// eslint-disable-next-line no-control-regex -- matching the escape character is the point
const ansiCodes = /\u001b\[[0-9;]*m/g

/** For stderr: links of a user who cannot connect now still print, with why they do not work yet. */
export function inactiveUserNote(result: UserLinks): string | null {
  return result.status === 'active'
    ? null
    : `note: user "${result.user}" is ${result.status}: these links work once the user is active again`
}
