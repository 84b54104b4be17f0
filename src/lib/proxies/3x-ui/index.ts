/**
 * 3x-ui: the panel posts each client's traffic to `sbq serve` (External Traffic Inform), so there is no API to read;
 * with a panel login sbq switches clients off and on through the panel, and without one it can only tell the operator.
 */
import {allowedOn} from '../../domain/traffic.js'
import {invalidInput, SbqError} from '../../errors.js'
import type {
  ChangeOutcome,
  NodeProbe,
  NodeShareInbound,
  ProxyDriver,
  ProxyNode,
  UserChange,
  UserCredentials,
} from '../proxy-driver.js'
import {readXrayShareInbounds} from '../shared/xray-config.js'
import type {ClientSettings, PanelClient} from './panel-client.js'

export const threeXUiDriver: ProxyDriver = {
  type: '3x-ui',
  traffic: 'pushed',
  defaultApplyCommand: null,
  onlineIps: false,
  nodeShareInbounds,
  applyUsers,
  checkPanelLogin: async (login) => {
    const {openPanel} = await import('./panel-client.js')
    ;(await openPanel(login)).close()
  },
  probe,
}

async function openNodePanel(node: ProxyNode & {panel_url: string}): Promise<PanelClient> {
  const {openPanel} = await import('./panel-client.js')
  return openPanel({url: node.panel_url, user: node.panel_user ?? '', password: node.panel_password ?? ''})
}

/**
 * The panel's inbounds the user's client is on, read as Xray reads what 3x-ui writes, with the client's own
 * credentials: sbq does not make 3x-ui clients, so their ids and passwords are the panel's, not sbq's.
 */
async function nodeShareInbounds(node: ProxyNode, user: string): Promise<NodeShareInbound[]> {
  if (node.panel_url === null)
    throw invalidInput(
      'NO_PANEL_LOGIN',
      `3x-ui node "${node.name}" has no panel login to read its inbounds from`,
      'add the node again with --panel-url, --panel-user and --panel-password',
    )
  const panel = await openNodePanel({...node, panel_url: node.panel_url})
  try {
    return (await panel.clientInbounds(user)).map(({inbound, client}) => {
      try {
        const [read] = readXrayShareInbounds(JSON.stringify({inbounds: [inbound]}), {
          flavor: 'xray',
          inbounds: [inbound.tag],
          source: `3x-ui panel "${node.panel_url}"`,
        })
        // vless flow is set per client in 3x-ui.
        const flow = typeof client.flow === 'string' && client.flow !== '' ? client.flow : undefined
        return {
          inbound: {...read!, ...(read!.protocol === 'vless' ? {flow} : {})},
          credentials: clientCredentials(client),
        }
      } catch (error) {
        if (!(error instanceof SbqError)) throw error
        return {tag: inbound.tag, protocol: inbound.protocol, reason: error.message}
      }
    })
  } finally {
    panel.close()
  }
}

/** A panel client's credentials in sbq's terms: the id (vless, vmess) or the password (trojan, shadowsocks). */
function clientCredentials(client: ClientSettings): Partial<UserCredentials> {
  const text = (key: string) =>
    typeof client[key] === 'string' && client[key] !== '' ? (client[key] as string) : undefined
  const password = text('password')
  return {
    ...(text('id') === undefined ? {} : {uuid: text('id')}),
    // A shadowsocks client's password is its key whatever the method's length: the panel made it to fit.
    ...(password === undefined ? {} : {password, password16: password}),
  }
}

/** Switches clients off and on through the panel: sbq never creates or deletes 3x-ui clients, it only sets `enable`. */
async function applyUsers(change: UserChange): Promise<ChangeOutcome> {
  const {node} = change
  // Told once per change, not every minute: the operator acts in the panel, and cron mails only what is new.
  if (node.panel_url === null) return {method: 'report-only', warning: reportOnlyWarning(node, change)}
  const panel = await openNodePanel({...node, panel_url: node.panel_url})
  try {
    // A client is on in the inbounds the user's choice gives (all without one) and off elsewhere; a panel that lists
    // no tag gives no inbound to a user with a choice.
    const wanted = new Map<string, (tag: string | undefined) => boolean>([
      ...change.removed.map((name) => [name, () => false] as const),
      ...change.added.map(
        (user) =>
          [
            user.name,
            (tag: string | undefined) => (tag === undefined ? (user.inbounds ?? null) === null : allowedOn(user, tag)),
          ] as const,
      ),
    ])
    const {missing, keptOff} = await panel.setEnabled(wanted)
    const notThere = change.removed.filter((name) => missing.has(name))
    const warnings = [
      notThere.length > 0 ? `not in the 3x-ui panel, nothing to switch off: ${notThere.join(', ')}` : '',
      keptOff.length > 0
        ? `kept off, as 3x-ui v3 switches a client on all its inbounds at once and these are also on inbounds their choice leaves out: ${keptOff
            .map(({email, tags}) => `${email} (${tags.join(', ')})`)
            .join(', ')} (detach them there in the panel)`
        : '',
    ].filter(Boolean)
    return {method: 'panel', warning: warnings.length > 0 ? warnings.join('; ') : null}
  } finally {
    panel.close()
  }
}

function reportOnlyWarning(node: ProxyNode, change: UserChange): string | null {
  const added = change.added.map((user) => user.name).sort()
  const parts = [
    change.removed.length > 0
      ? `over quota, expired or disabled but still enabled there: ${change.removed.join(', ')}`
      : '',
    added.length > 0 ? `active again: ${added.join(', ')}` : '',
  ].filter(Boolean)
  if (parts.length === 0) return null
  return `3x-ui node "${node.name}" has no panel login, so sbq could not act; ${parts.join('; ')} (switch them in the panel, or add the node again with --panel-url, --panel-user and --panel-password)`
}

/** A 3x-ui node is reached through its panel: a login and the client list, or nothing when it has no login. */
async function probe(node: ProxyNode): Promise<NodeProbe> {
  if (node.panel_url === null) {
    throw invalidInput(
      'NODE_HAS_NO_PANEL',
      `3x-ui node "${node.name}" has no panel login to test`,
      'its traffic arrives through sbq serve; see the last report in: sbq node show ' + node.name,
    )
  }
  const panel = await openNodePanel({...node, panel_url: node.panel_url})
  try {
    const clients = await panel.listClients()
    return {
      uptime: null,
      userCounters: 0,
      users: new Set(clients.map((client) => client.email)).size,
      liveUserChanges: true,
      onlineIps: false,
    }
  } finally {
    panel.close()
  }
}
