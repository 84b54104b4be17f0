import type {ChalkInstance} from 'chalk'

import type {UserLinks} from '../share-links/user-links.js'

/**
 * Each link alone on its line, under a heading naming the node, the inbound and the protocol: links are for copying,
 * and a table would wrap them.
 */
export function renderUserLinks(result: UserLinks, style: ChalkInstance): string {
  const blocks: string[] = []
  for (const node of result.nodes) {
    if (node.reason !== null) {
      blocks.push(style.dim(`${node.node}: no links: ${node.reason}`))
      continue
    }
    for (const entry of node.links) {
      const heading = style.bold(`${node.node}  ${entry.tag}  ${entry.protocol}`)
      blocks.push(
        'link' in entry ? `${heading}\n${entry.link}` : `${heading}\n${style.dim(`no link: ${entry.reason}`)}`,
      )
    }
  }
  return blocks.join('\n\n')
}

/** For stderr: links of a user who cannot connect now still print, with why they do not work yet. */
export function inactiveUserNote(result: UserLinks): string | null {
  return result.status === 'active'
    ? null
    : `note: user "${result.user}" is ${result.status}: these links work once the user is active again`
}
