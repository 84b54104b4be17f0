import type {ChalkInstance} from 'chalk'
import {table} from './grid.js'

import type {NodePull, PullResult} from '../accounting/pull.js'
import {driftHint} from '../domain/interface-drift.js'
import type {ImportResult} from '../nodes/import-users.js'
import type {NodeTest, NodeView} from '../nodes/node-service.js'
import {isPrivateUrl} from '../inform/inform-uri.js'
import {formatInstant, formatSize} from './format.js'

export function formatUptime(seconds: number | null): string {
  if (seconds === null) return '-'
  const days = Math.floor(seconds / 86_400)
  const hours = Math.floor((seconds % 86_400) / 3600)
  const minutes = Math.floor((seconds % 3600) / 60)
  if (days > 0) return `${days}d ${hours}h`
  if (hours > 0) return `${hours}h ${minutes}m`
  return `${minutes}m ${seconds % 60}s`
}

export function renderNodes(nodes: NodeView[], timeZone: string, style: ChalkInstance): string {
  if (nodes.length === 0)
    return 'no nodes yet (add one: sbq node add hk1 --type xray --api 127.0.0.1:10085 --config /usr/local/etc/xray/config.json)'
  // Shown once some node bills at another ratio than 1; until then it would be a column of ones.
  const ratios = nodes.some((node) => node.ratio !== '1')
  const out = table(['node', 'type', 'api', 'config', ...(ratios ? ['ratio'] : []), 'last pull', 'last error'], style)
  for (const node of nodes) {
    const lastError = node.lastError ?? (node.lastRefusal ? describeRefusal(node.lastRefusal, timeZone) : null)
    out.push([
      node.name,
      node.type,
      node.api || '-',
      node.config ?? '-',
      ...(ratios ? [node.ratio] : []),
      formatInstant(node.lastPullAt, timeZone),
      lastError ? style.red(lastError) : '',
    ])
  }
  return out.toString()
}

export function renderNode(node: NodeView, timeZone: string): string {
  const rows: Array<[string, string]> = [
    ['name', node.name],
    ['type', node.type],
    ['api', node.api || '-'],
    ['config', node.config ?? '-'],
    ['inbounds', node.inbounds?.join(', ') ?? (node.config ? 'every inbound with a user list' : '-')],
    ['apply', node.apply ?? '-'],
    ['cut sessions', node.cutSessions ? 'yes: restarts the proxy after removing users' : 'no'],
    ...(node.traffic === 'pushed'
      ? [['panel', node.panel ?? 'none: sbq reports users over quota but cannot switch them off'] as [string, string]]
      : []),
    ...(node.inform ? [['pushes to', node.inform] as [string, string]] : []),
    ['public host', node.publicHost ?? '- (sbq node set NAME --public-host HOST for share links)'],
    [
      'ratio',
      node.ratio === '1' ? '1 (each byte billed once)' : `${node.ratio} (each byte counted bills ${node.ratio} bytes)`,
    ],
    [node.traffic === 'pushed' ? 'last report' : 'last pull', formatInstant(node.lastPullAt, timeZone)],
    ['last error', node.lastError ?? '-'],
    [
      'refused',
      node.refusedReports === 0 && node.refusedNames === 0
        ? 'none'
        : `${node.refusedReports} report(s), ${node.refusedNames} new unmanaged name(s)`,
    ],
    ['last refused', node.lastRefusal ? describeRefusal(node.lastRefusal, timeZone) : '-'],
    [
      'interface',
      node.interface === null ? '- (sbq node set NAME --interface eth0 to compare it)' : describeDrift(node),
    ],
  ]
  return rows.map(([key, value]) => `${key.padEnd(12)}  ${value}`).join('\n')
}

/** A refusal with when it was: a later successful report does not clear it. */
export function describeRefusal(refusal: NonNullable<NodeView['lastRefusal']>, timeZone: string): string {
  const status = refusal.status === null ? 'no answer' : `status ${refusal.status}`
  const size = refusal.bytes === null ? '' : `, ${refusal.bytes} bytes`
  return `report refused ${formatInstant(refusal.at, timeZone)} (${status}${size}): ${refusal.reason}`
}

/** Printed once, when the token is made: it is stored hashed and cannot be shown again. */
export function renderInformUri(uri: string): string[] {
  const lines = [
    `paste into 3x-ui, Panel Settings > General > External Traffic Inform URI (shown only now; sbq node rotate-token makes a new one):`,
    `  ${uri}`,
  ]
  if (isPrivateUrl(uri))
    lines.push(
      'note: newer 3x-ui refuses loopback and private addresses here; serve sbq behind an https reverse proxy and give --public-url',
    )
  return lines
}

export function renderImport(imported: ImportResult): string {
  const lines = [
    `imported ${imported.added.length} user(s)${imported.added.length > 0 ? `: ${imported.added.join(', ')}` : ''}`,
  ]
  if (imported.existing.length > 0) lines.push(`already in sbq, left as they are: ${imported.existing.join(', ')}`)
  if (imported.skipped.length > 0) lines.push(`names sbq cannot manage, left alone: ${imported.skipped.join(', ')}`)
  return lines.join('\n')
}

export function renderNodeTest(test: NodeTest): string {
  return [
    `node "${test.name}" answers: uptime ${formatUptime(test.uptime)}, ${test.users} user(s) with counters (${test.userCounters} counters)`,
    test.liveUserChanges
      ? 'users can be added and removed live through its API'
      : 'no live user API: changes go through its config file and a reload',
    test.onlineIps
      ? 'online-IP lists are available (needs policy statsUserOnline)'
      : 'no online-IP API: max-ips cannot be checked on this node',
  ].join('\n')
}

export function renderPull(result: PullResult, style: ChalkInstance): string {
  if (result.nodes.length === 0) return 'no nodes to pull (add one: sbq node add --help)'
  const out = table(['node', 'users', 'up', 'down', 'uptime', 'note'], style)
  for (const node of result.nodes) {
    const note = !node.ok
      ? style.red(node.error ?? 'failed')
      : [
          node.baseline ? 'first pull: counters taken as the baseline' : '',
          node.restarted ? 'proxy restarted since the last pull' : '',
          node.unmanaged > 0 ? `${node.unmanaged} unmanaged name(s)` : '',
          pushNote(node, style),
        ]
          .filter(Boolean)
          .join('; ')
    out.push([
      node.name,
      String(node.users),
      formatSize(node.up),
      formatSize(node.down),
      formatUptime(node.uptime),
      note,
    ])
  }
  return out.toString()
}

function pushNote(node: PullResult['nodes'][number], style: ChalkInstance): string {
  const push = node.push
  if (push === null || (push.sent === 0 && push.queued === 0)) return ''
  if (push.error === null) return `pushed ${push.sent}`
  return style.yellow(`push failed (${push.error}); ${push.queued} queued for the next pull`)
}

function describeDrift(node: NodeView): string {
  const day = node.drift
  if (day === null) return `${node.interface} (no pull compared yet)`
  const ratio = day.ratioPercent === null ? '' : `, ${day.ratioPercent}% of half of it`
  const warned = day.warnedAt === null ? '' : '; found drifting'
  return `${node.interface}: on ${day.day} counted ${formatSize(day.countedBytes)} while it carried ${formatSize(day.interfaceBytes)}${ratio}${warned}`
}

/**
 * One `warning:` line per node whose counted bytes today are under drift-threshold, and per interface that could not be
 * read. With `onlyNew` (check, run every minute) a drifting node is named once a day, when first found.
 */
export function driftWarnings(pulls: NodePull[], options: {onlyNew: boolean}): string[] {
  const lines: string[] = []
  for (const {name, drift} of pulls) {
    if (drift === null) continue
    if (drift.error !== null) lines.push(`warning: node "${name}": ${drift.error}`)
    if (!drift.drifting || (options.onlyNew && !drift.firstToday)) continue
    lines.push(
      `warning: node "${name}" counted ${formatSize(drift.countedBytes)} on ${drift.day} while interface ${drift.interface} carried ${formatSize(drift.interfaceBytes)}: ${drift.ratioPercent ?? 0}% of half of it, under drift-threshold ${drift.thresholdPercent ?? 0}% (${driftHint})`,
    )
  }
  return lines
}
