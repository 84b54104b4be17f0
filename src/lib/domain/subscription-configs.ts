/**
 * The structured subscription bodies, pure: a sing-box configuration of outbounds and a Clash (mihomo) configuration
 * of proxies, built from the same inbound facts as the share links. Keys are only those the clients' option structs
 * define: sing-box's option/{vless,vmess,trojan,shadowsocks,hysteria2,tuic,anytls,tls,v2ray_transport,outbound,
 * group}.go and mihomo's adapter/outbound/{vless,vmess,trojan,shadowsocks,hysteria2,tuic,anytls,reality}.go. An inbound
 * the client type cannot speak (xhttp, kcp, naive…) is left out of that format.
 */
import {shadowsocksKey} from './traffic.js'
import type {PublicAddress, ShareInbound, ShareUser} from './share-links.js'

export interface SubscriptionServer {
  /** Unique within the body: the node and the inbound tag. */
  name: string
  inbound: ShareInbound
  address: PublicAddress
  /** The user's credentials on this server where the node keeps its own (a 3x-ui client's); else the user's. */
  credentials?: Partial<ShareUser['credentials']>
}

type JsonObject = {[key: string]: unknown}

function compact(object: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== ''))
}

function shadowsocksPassword(inbound: ShareInbound, user: ShareUser): string {
  const key = inbound.method?.toLowerCase().startsWith('2022-blake3-')
    ? shadowsocksKey(inbound.method, user.credentials)
    : user.credentials.password
  return inbound.serverKey === undefined ? key : `${inbound.serverKey}:${key}`
}

function singBoxTransport(inbound: ShareInbound): JsonObject | undefined | null {
  switch (inbound.network) {
    case 'tcp':
    case 'raw':
      return inbound.headerType === undefined ? undefined : null
    case 'ws':
      return compact({
        type: 'ws',
        path: inbound.path,
        headers: inbound.host === undefined ? undefined : {Host: inbound.host},
      })
    case 'grpc':
      return compact({type: 'grpc', service_name: inbound.serviceName})
    case 'httpupgrade':
      return compact({type: 'httpupgrade', path: inbound.path, host: inbound.host})
    case 'http':
    case 'h2':
      return compact({type: 'http', path: inbound.path, host: inbound.host?.split(',')})
    default:
      return null
  }
}

function singBoxTls(inbound: ShareInbound): JsonObject | undefined {
  if (inbound.security === 'none') return undefined
  return compact({
    enabled: true,
    server_name: inbound.sni,
    alpn: inbound.alpn,
    utls: inbound.fingerprint === undefined ? undefined : {enabled: true, fingerprint: inbound.fingerprint},
    reality:
      inbound.security === 'reality'
        ? compact({enabled: true, public_key: inbound.publicKey, short_id: inbound.shortId})
        : undefined,
  })
}

/** One sing-box outbound, or undefined when sing-box has no client for the inbound. */
export function singBoxOutbound(server: SubscriptionServer, user: ShareUser): JsonObject | undefined {
  const {inbound, address} = server
  const base = {tag: server.name, server: address.host, server_port: address.port ?? inbound.port}
  const quic = {tls: compact({enabled: true, server_name: inbound.sni, alpn: inbound.alpn})}
  switch (inbound.protocol) {
    case 'vless':
    case 'vmess':
    case 'trojan': {
      const transport = singBoxTransport(inbound)
      if (transport === null) return undefined
      const secret =
        inbound.protocol === 'trojan'
          ? {password: user.credentials.password}
          : inbound.protocol === 'vmess'
            ? {uuid: user.credentials.uuid, security: 'auto', alter_id: 0}
            : {uuid: user.credentials.uuid, flow: inbound.flow}
      return compact({type: inbound.protocol, ...base, ...secret, tls: singBoxTls(inbound), transport})
    }
    case 'shadowsocks':
      if (inbound.method === undefined || inbound.network !== 'tcp' || inbound.security !== 'none') return undefined
      return {type: 'shadowsocks', ...base, method: inbound.method, password: shadowsocksPassword(inbound, user)}
    case 'hysteria2':
      return compact({type: 'hysteria2', ...base, password: user.credentials.password, obfs: inbound.obfs, ...quic})
    case 'tuic':
      return compact({
        type: 'tuic',
        ...base,
        uuid: user.credentials.uuid,
        password: user.credentials.password,
        congestion_control: inbound.congestionControl,
        ...quic,
      })
    case 'anytls':
      return compact({type: 'anytls', ...base, password: user.credentials.password, ...quic})
    default:
      return undefined
  }
}

/** A sing-box configuration: every server the user has, a selector over them, and the route's default to it. */
/** The user as a server knows them: with the node's own credentials where it keeps them. */
function onServer(server: SubscriptionServer, user: ShareUser): ShareUser {
  return server.credentials === undefined ? user : {...user, credentials: {...user.credentials, ...server.credentials}}
}

export function singBoxSubscription(servers: readonly SubscriptionServer[], user: ShareUser): JsonObject {
  const outbounds = servers.flatMap((server) => {
    const outbound = singBoxOutbound(server, onServer(server, user))
    return outbound === undefined ? [] : [outbound]
  })
  const tags = outbounds.map((outbound) => outbound.tag as string)
  return {
    outbounds: [
      ...(tags.length > 0 ? [{type: 'selector', tag: 'proxy', outbounds: tags}] : []),
      ...outbounds,
      {type: 'direct', tag: 'direct'},
    ],
    route: {final: tags.length > 0 ? 'proxy' : 'direct'},
  }
}

function clashTransport(inbound: ShareInbound): JsonObject | undefined | null {
  switch (inbound.network) {
    case 'tcp':
    case 'raw':
      return inbound.headerType === undefined ? {} : null
    case 'ws':
      return {
        network: 'ws',
        'ws-opts': compact({
          path: inbound.path,
          headers: inbound.host === undefined ? undefined : {Host: inbound.host},
        }),
      }
    case 'httpupgrade':
      return {
        network: 'ws',
        'ws-opts': compact({
          path: inbound.path,
          headers: inbound.host === undefined ? undefined : {Host: inbound.host},
          'v2ray-http-upgrade': true,
        }),
      }
    case 'grpc':
      return {network: 'grpc', 'grpc-opts': compact({'grpc-service-name': inbound.serviceName})}
    default:
      return null
  }
}

function clashTls(inbound: ShareInbound, sniKey: 'servername' | 'sni'): JsonObject {
  if (inbound.security === 'none') return {}
  return compact({
    ...(sniKey === 'servername' ? {tls: true} : {}),
    [sniKey]: inbound.sni,
    alpn: inbound.alpn,
    'client-fingerprint': inbound.fingerprint,
    'reality-opts':
      inbound.security === 'reality'
        ? compact({'public-key': inbound.publicKey, 'short-id': inbound.shortId})
        : undefined,
  })
}

/** One Clash (mihomo) proxy, or undefined when mihomo has no client for the inbound. */
export function clashProxy(server: SubscriptionServer, user: ShareUser): JsonObject | undefined {
  const {inbound, address} = server
  const base = {name: server.name, server: address.host, port: address.port ?? inbound.port}
  switch (inbound.protocol) {
    case 'vless':
    case 'vmess':
    case 'trojan': {
      const transport = clashTransport(inbound)
      if (transport === null) return undefined
      if (inbound.protocol === 'trojan') {
        return compact({
          type: 'trojan',
          ...base,
          password: user.credentials.password,
          udp: true,
          ...transport,
          ...clashTls(inbound, 'sni'),
        })
      }
      const secret =
        inbound.protocol === 'vmess'
          ? {uuid: user.credentials.uuid, alterId: 0, cipher: 'auto'}
          : {uuid: user.credentials.uuid, flow: inbound.flow}
      return compact({
        type: inbound.protocol,
        ...base,
        ...secret,
        udp: true,
        ...transport,
        ...clashTls(inbound, 'servername'),
      })
    }
    case 'shadowsocks':
      if (inbound.method === undefined || inbound.network !== 'tcp' || inbound.security !== 'none') return undefined
      return {type: 'ss', ...base, cipher: inbound.method, password: shadowsocksPassword(inbound, user), udp: true}
    case 'hysteria2':
      return compact({
        type: 'hysteria2',
        ...base,
        password: user.credentials.password,
        obfs: inbound.obfs?.type,
        'obfs-password': inbound.obfs?.password,
        sni: inbound.sni,
        alpn: inbound.alpn,
      })
    case 'tuic':
      return compact({
        type: 'tuic',
        ...base,
        uuid: user.credentials.uuid,
        password: user.credentials.password,
        'congestion-controller': inbound.congestionControl,
        sni: inbound.sni,
        alpn: inbound.alpn,
      })
    case 'anytls':
      return compact({
        type: 'anytls',
        ...base,
        password: user.credentials.password,
        sni: inbound.sni,
        alpn: inbound.alpn,
        'client-fingerprint': inbound.fingerprint,
        udp: true,
      })
    default:
      return undefined
  }
}

/**
 * A Clash configuration: the proxies, one group selecting among them, and a rule sending everything to it. Written
 * as JSON, which is YAML too (YAML 1.2 contains JSON), so no YAML writer is needed and nothing needs quoting rules.
 */
export function clashSubscription(servers: readonly SubscriptionServer[], user: ShareUser): JsonObject {
  const proxies = servers.flatMap((server) => {
    const proxy = clashProxy(server, onServer(server, user))
    return proxy === undefined ? [] : [proxy]
  })
  const names = proxies.map((proxy) => proxy.name as string)
  return {
    proxies,
    'proxy-groups': [{name: 'proxy', type: 'select', proxies: names.length > 0 ? names : ['DIRECT']}],
    rules: ['MATCH,proxy'],
  }
}
