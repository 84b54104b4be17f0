import type {ChalkInstance} from 'chalk'

import type {NodeSync} from '../enforcement/node-sync.js'
import type {StatusDecision} from '../domain/decide-status.js'
import {statusText} from './format.js'

export function renderChanges(changes: StatusDecision[], style: ChalkInstance, dryRun = false): string[] {
  return changes.map(
    (change) =>
      `${dryRun ? 'would change' : 'user'} "${change.user}": ${statusText(change.from, style)} → ${statusText(change.to, style)} (${change.reason})`,
  )
}

/** One line per node that was (or would be) changed or failed; untouched nodes say nothing. */
export function renderNodeSyncs(nodes: NodeSync[], style: ChalkInstance): string[] {
  const lines: string[] = []
  for (const node of nodes) {
    if (node.error) continue
    if (!node.applied) {
      if (node.warning) lines.push(style.yellow(`node "${node.name}": ${node.warning}`))
      continue
    }
    const parts = [
      node.added.length > 0
        ? `+${node.added.length} (${node.added.slice(0, 5).join(', ')}${node.added.length > 5 ? ', …' : ''})`
        : '',
      node.removed.length > 0
        ? `-${node.removed.length} (${node.removed.slice(0, 5).join(', ')}${node.removed.length > 5 ? ', …' : ''})`
        : '',
    ]
    lines.push(`node "${node.name}": ${parts.filter(Boolean).join(' ') || 'in sync'} via ${node.method}`)
    if (node.warning) lines.push(style.yellow(`node "${node.name}": ${node.warning}`))
  }
  return lines
}

export function nodeErrors(nodes: NodeSync[]): string[] {
  return nodes
    .filter((node) => node.error)
    .map((node) => `error: node "${node.name}": ${node.error} (${withHint(node, 'the next check retries it')})`)
}

/** A node failure says what to do about it, when sbq knows, and then that sbq will try again. */
export function withHint(node: NodeSync, retry: string): string {
  return node.hint === null ? retry : `${node.hint}; ${retry}`
}
