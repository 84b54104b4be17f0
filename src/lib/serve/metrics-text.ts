import type {Metrics} from './metrics.js'

/** The Prometheus text exposition format (version 0.0.4). */
export const metricsContentType = 'text/plain; version=0.0.4; charset=utf-8'

interface Family {
  name: string
  type: 'gauge' | 'counter'
  help: string
  samples: Array<[labels: Record<string, string>, value: number]>
}

export function renderMetrics(metrics: Metrics): string {
  const families: Family[] = [
    {
      name: 'sbq_user_period_bytes',
      type: 'gauge',
      help: 'Bytes a user moved in the current billing period, by direction, summed over every node.',
      samples: metrics.users.flatMap((user) => [
        [{user: user.name, direction: 'up'}, user.periodUp],
        [{user: user.name, direction: 'down'}, user.periodDown],
      ]),
    },
    {
      name: 'sbq_user_allowance_bytes',
      type: 'gauge',
      help: 'Bytes a user may move this period, top-ups included; 0 means unlimited.',
      samples: metrics.users.map((user) => [{user: user.name}, user.allowance]),
    },
    {
      name: 'sbq_user_status',
      type: 'gauge',
      help: "1 for the user's status, 0 for the others.",
      samples: metrics.users.flatMap((user) =>
        metrics.statuses.map((status): [Record<string, string>, number] => [
          {user: user.name, status},
          user.status === status ? 1 : 0,
        ]),
      ),
    },
    {
      name: 'sbq_node_last_report_timestamp_seconds',
      type: 'gauge',
      help: 'When sbq last pulled the node, or the node last reported (3x-ui), as Unix time.',
      samples: metrics.nodes
        .filter((node) => node.lastReportAt !== null)
        .map((node) => [{node: node.name, type: node.type}, node.lastReportAt! / 1000]),
    },
    {
      name: 'sbq_node_bytes_total',
      type: 'counter',
      help: 'Bytes sbq has counted for the node, managed users and unmanaged names alike, by direction.',
      samples: metrics.nodes.flatMap((node) => [
        [{node: node.name, direction: 'up'}, node.countedUp],
        [{node: node.name, direction: 'down'}, node.countedDown],
      ]),
    },
    {
      name: 'sbq_node_queued_pushes',
      type: 'gauge',
      help: 'Pulls of the node not yet acknowledged by the central sbq it pushes to.',
      samples: metrics.nodes
        .filter((node) => node.queuedPushes !== null)
        .map((node) => [{node: node.name}, node.queuedPushes!]),
    },
    {
      name: 'sbq_node_refused_reports_total',
      type: 'counter',
      help: "Reports for the node that sbq serve refused (too large, not 3x-ui's shape, wrong token, sbq's own failure); 3x-ui never resends them.",
      samples: metrics.nodes.map((node) => [{node: node.name}, node.refusedReports]),
    },
    {
      name: 'sbq_node_refused_names_total',
      type: 'counter',
      help: 'New unmanaged names from the node not recorded, over unmanaged-names-limit a day.',
      samples: metrics.nodes.map((node) => [{node: node.name}, node.refusedNames]),
    },
    {
      name: 'sbq_node_last_refusal_timestamp_seconds',
      type: 'gauge',
      help: 'When sbq last refused a report (or names in one) from the node, as Unix time.',
      samples: metrics.nodes
        .filter((node) => node.lastRefusedAt !== null)
        .map((node) => [{node: node.name}, node.lastRefusedAt! / 1000]),
    },
    {
      name: 'sbq_node_interface_bytes_total',
      type: 'counter',
      help: "The kernel's byte counters of the node's host interface at its last pull (node set --interface), by direction; they restart from 0 when the host reboots. A proxy host's interface carries about twice what the node counts.",
      samples: metrics.nodes.flatMap((node) =>
        node.hostInterface === null
          ? []
          : [
              [{node: node.name, interface: node.hostInterface.name, direction: 'rx'}, node.hostInterface.rx],
              [{node: node.name, interface: node.hostInterface.name, direction: 'tx'}, node.hostInterface.tx],
            ],
      ),
    },
  ]
  const lines: string[] = []
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`)
    for (const [labels, value] of family.samples) lines.push(`${family.name}{${formatLabels(labels)}} ${value}`)
  }
  return `${lines.join('\n')}\n`
}

function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}="${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`)
    .join(',')
}
