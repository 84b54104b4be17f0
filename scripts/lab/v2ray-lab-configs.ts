import {LOOPBACK} from './loopback-ports.js'

export interface LabUser {
  /** The vmess client's `email`: V2Ray's counters are `user>>>NAME>>>traffic>>>...`. */
  name: string
  uuid: string
}

export interface ServerConfigOptions {
  apiPort: number
  vmessPort: number
  vmessTag: string
  users: readonly LabUser[]
  handshakeSeconds: number
}

/**
 * The V2Ray 4.34 server under test, laid out the way an operator's config looks so sbq can rewrite it: 4.34 has no
 * `api.listen`, so the API is a dokodemo-door inbound routed to the `api` outbound tag.
 */
export function serverConfig(options: ServerConfigOptions): object {
  const {apiPort, vmessPort, vmessTag, users, handshakeSeconds} = options
  return {
    log: {loglevel: 'warning'},
    stats: {},
    api: {tag: 'api', services: ['StatsService', 'HandlerService']},
    policy: {
      levels: {
        '0': {
          statsUserUplink: true,
          statsUserDownlink: true,
          // An unknown vmess user is not refused at once: V2Ray drains the connection until the handshake timeout
          // (against probing), so this bounds how long a removed user's attempt takes to fail.
          handshake: handshakeSeconds,
          connIdle: 10,
          uplinkOnly: 1,
          downlinkOnly: 1,
        },
      },
    },
    inbounds: [
      {tag: 'api', listen: LOOPBACK, port: apiPort, protocol: 'dokodemo-door', settings: {address: LOOPBACK}},
      {
        tag: vmessTag,
        listen: LOOPBACK,
        port: vmessPort,
        protocol: 'vmess',
        settings: {clients: users.map((user) => ({id: user.uuid, email: user.name, level: 0, alterId: 0}))},
      },
    ],
    outbounds: [{tag: 'direct', protocol: 'freedom'}],
    routing: {rules: [{type: 'field', inboundTag: ['api'], outboundTag: 'api'}]},
  }
}

export interface ClientConfigOptions {
  vmessPort: number
  /** Each user's own socks port: traffic entering it leaves as that user. */
  users: readonly {user: LabUser; socksPort: number}[]
}

export const socksTag = (user: LabUser): string => `socks-${user.name}`
const vmessOutTag = (user: LabUser): string => `vmess-${user.name}`

/** The traffic generator: one auth-less socks inbound per user, each routed to a vmess outbound with that uuid. */
export function clientConfig(options: ClientConfigOptions): object {
  const {vmessPort, users} = options
  return {
    log: {loglevel: 'warning'},
    inbounds: users.map(({user, socksPort}) => ({
      tag: socksTag(user),
      listen: LOOPBACK,
      port: socksPort,
      protocol: 'socks',
      settings: {auth: 'noauth', udp: false},
    })),
    outbounds: users.map(({user}) => ({
      tag: vmessOutTag(user),
      protocol: 'vmess',
      settings: {
        vnext: [{address: LOOPBACK, port: vmessPort, users: [{id: user.uuid, alterId: 0, security: 'aes-128-gcm'}]}],
      },
    })),
    routing: {
      rules: users.map(({user}) => ({type: 'field', inboundTag: [socksTag(user)], outboundTag: vmessOutTag(user)})),
    },
  }
}
