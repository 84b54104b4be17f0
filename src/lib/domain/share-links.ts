/**
 * Share links: the one-line URIs proxy clients (v2rayN, Shadowrocket, Hiddify, v2rayNG, NekoBox) import a server
 * from. Pure: an inbound as its config describes it, a user's credentials and the address clients dial, in; a link
 * or the reason there is none, out.
 *
 * Formats followed: VLESS and Trojan as Xray's share-link standard (XTLS/Xray-core discussion #716: `type`,
 * `security`, `sni`, `fp`, `alpn`, `pbk`, `sid`, `spx`, `flow`, `path`, `host`, `serviceName`, `mode`,
 * `headerType`), VMess as v2rayN's base64 JSON (`v` "2"), Shadowsocks as SIP002, with SIP022's rule that a 2022
 * method's user info is percent-encoded rather than base64. For sing-box's own protocols: Hysteria 2 as its URI
 * scheme (`hysteria2://auth@host:port/?sni=&obfs=&obfs-password=`), AnyTLS as anytls-go's (`anytls://password@…`),
 * TUIC as the clients that import it write it (`tuic://uuid:password@…?congestion_control=&alpn=&sni=`), and
 * NaïveProxy as `naive+https://user:password@host:port`.
 */
import {shadowsocksKey, type UserCredentials} from './traffic.js'

export type ShareProtocol = 'vmess' | 'vless' | 'trojan' | 'shadowsocks' | 'hysteria2' | 'tuic' | 'anytls' | 'naive'

/** What a client must know of an inbound's transport and TLS layer, as read from the server's config. */
export interface ShareInbound {
  tag: string
  /** A ShareProtocol gets a link; any other protocol (shadowtls, socks, hysteria v1…) a reason. */
  protocol: ShareProtocol | (string & {})
  port: number
  /** tcp, ws, grpc, httpupgrade, xhttp, kcp, http… as the config's `streamSettings.network` names it. */
  network: string
  /** ws/httpupgrade/xhttp/http path, when set. */
  path?: string
  /** ws/httpupgrade/xhttp/http host header, when set. */
  host?: string
  /** grpc only. */
  serviceName?: string
  /** grpc only: `multi` when the inbound sets multiMode. */
  grpcMode?: 'gun' | 'multi'
  /** tcp `http` header obfuscation or a kcp header type, when not `none`. */
  headerType?: string
  security: 'none' | 'tls' | 'reality'
  /** The name clients put in their TLS ClientHello: the certificate's or REALITY's first server name. */
  sni?: string
  alpn?: readonly string[]
  /** uTLS fingerprint clients should mimic; REALITY needs one, `chrome` when the config says nothing. */
  fingerprint?: string
  /** REALITY: the public key of the server's private key, base64url. */
  publicKey?: string
  /** REALITY: one of the server's short ids (the first). */
  shortId?: string
  /** REALITY: the spider's first path, when set. */
  spiderX?: string
  /** vless: the flow the inbound's clients carry. */
  flow?: string
  /** shadowsocks: the inbound's method. */
  method?: string
  /** shadowsocks 2022 with several users: the inbound's own key, which comes before the user's in a client. */
  serverKey?: string
  /** hysteria2: the obfuscation (`salamander`) and its password. */
  obfs?: {type: string; password: string}
  /** tuic: the congestion control the server uses (bbr, cubic, new_reno). */
  congestionControl?: string
}

export interface ShareUser {
  name: string
  credentials: UserCredentials
}

export type ShareLink = {tag: string; protocol: string; link: string} | {tag: string; protocol: string; reason: string}

/** Networks each link form has a spelling for; anything else gets a reason instead of a link clients would misread. */
const linkNetworks = new Set(['tcp', 'raw', 'ws', 'grpc', 'httpupgrade', 'xhttp', 'kcp', 'http', 'h2'])

/** `host` as a URI authority: an IPv6 address goes in brackets. */
export function uriHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

export function shareLink(inbound: ShareInbound, user: ShareUser, address: {host: string; port?: number}): ShareLink {
  const {tag, protocol} = inbound
  const port = address.port ?? inbound.port
  if (isUdpProtocol(protocol)) return {tag, protocol, link: udpFamilyLink(inbound, user, address.host, port)}
  if (!linkNetworks.has(inbound.network)) {
    return {tag, protocol, reason: `its transport "${inbound.network}" has no share-link form`}
  }
  switch (protocol as ShareProtocol) {
    case 'vless':
      return {tag, protocol, link: urlLink('vless', user.credentials.uuid, inbound, user.name, address.host, port)}
    case 'trojan':
      return {tag, protocol, link: urlLink('trojan', user.credentials.password, inbound, user.name, address.host, port)}
    case 'vmess':
      return {tag, protocol, link: vmessLink(inbound, user, address.host, port)}
    case 'shadowsocks':
      return shadowsocksLink(inbound, user, address.host, port)
    case 'naive': {
      const userInfo = `${encodeURIComponent(user.name)}:${encodeURIComponent(user.credentials.password)}`
      return {
        tag,
        protocol,
        link: `naive+https://${userInfo}@${uriHost(address.host)}:${port}#${encodeURIComponent(user.name)}`,
      }
    }
    default:
      return {tag, protocol, reason: `protocol "${protocol}" has no common share-link form`}
  }
}

type UdpFamily = 'hysteria2' | 'tuic' | 'anytls'

/** Protocols whose links carry their own TLS settings rather than Xray's transport and security parameters. */
function isUdpProtocol(protocol: string): protocol is UdpFamily {
  return protocol === 'hysteria2' || protocol === 'tuic' || protocol === 'anytls'
}

function udpFamilyLink(inbound: ShareInbound, user: ShareUser, host: string, port: number): string {
  const query = new URLSearchParams()
  const secret =
    inbound.protocol === 'tuic'
      ? `${encodeURIComponent(user.credentials.uuid)}:${encodeURIComponent(user.credentials.password)}`
      : encodeURIComponent(user.credentials.password)
  if (inbound.protocol === 'tuic' && inbound.congestionControl !== undefined)
    query.set('congestion_control', inbound.congestionControl)
  if (inbound.alpn !== undefined && inbound.alpn.length > 0) query.set('alpn', inbound.alpn.join(','))
  if (inbound.sni !== undefined) query.set('sni', inbound.sni)
  if (inbound.obfs !== undefined) {
    query.set('obfs', inbound.obfs.type)
    query.set('obfs-password', inbound.obfs.password)
  }
  const params = query.toString().replaceAll('+', '%20')
  const path = inbound.protocol === 'tuic' ? '' : '/'
  return `${inbound.protocol}://${secret}@${uriHost(host)}:${port}${path}${params === '' ? '' : `?${params}`}#${encodeURIComponent(user.name)}`
}

function urlLink(
  scheme: 'vless' | 'trojan',
  secret: string,
  inbound: ShareInbound,
  name: string,
  host: string,
  port: number,
): string {
  const query = new URLSearchParams()
  if (scheme === 'vless') query.set('encryption', 'none')
  query.set('type', networkName(inbound.network))
  query.set('security', inbound.security)
  const optional: Array<[string, string | undefined]> = [
    ['sni', inbound.sni],
    ['fp', inbound.security === 'none' ? undefined : inbound.fingerprint],
    ['alpn', inbound.alpn?.join(',')],
    ['pbk', inbound.publicKey],
    ['sid', inbound.shortId],
    ['spx', inbound.spiderX],
    ['flow', scheme === 'vless' ? inbound.flow : undefined],
    ['path', inbound.path],
    ['host', inbound.host],
    ['serviceName', inbound.serviceName],
    ['mode', inbound.grpcMode],
    ['headerType', inbound.headerType],
  ]
  for (const [key, value] of optional) if (value !== undefined && value !== '') query.set(key, value)
  // URLSearchParams writes a space as "+", which the standard's percent-decoding clients read literally.
  const params = query.toString().replaceAll('+', '%20')
  return `${scheme}://${encodeURIComponent(secret)}@${uriHost(host)}:${port}?${params}#${encodeURIComponent(name)}`
}

/** The standard names Xray's `raw` (tcp's newer name) and `h2` by their older spellings, which every client reads. */
function networkName(network: string): string {
  if (network === 'raw') return 'tcp'
  if (network === 'h2') return 'http'
  return network
}

function vmessLink(inbound: ShareInbound, user: ShareUser, host: string, port: number): string {
  const network = networkName(inbound.network)
  // v2rayN's fields are all strings; grpc's service name goes in `path`, and `type` is the header type or grpc mode.
  const json = {
    v: '2',
    ps: user.name,
    add: host,
    port: String(port),
    id: user.credentials.uuid,
    aid: '0',
    scy: 'auto',
    net: network,
    type: network === 'grpc' ? (inbound.grpcMode ?? 'gun') : (inbound.headerType ?? 'none'),
    host: inbound.host ?? '',
    path: network === 'grpc' ? (inbound.serviceName ?? '') : (inbound.path ?? ''),
    tls: inbound.security === 'none' ? '' : inbound.security,
    sni: inbound.sni ?? '',
    alpn: inbound.alpn?.join(',') ?? '',
    fp: inbound.security === 'none' ? '' : (inbound.fingerprint ?? ''),
  }
  return `vmess://${Buffer.from(JSON.stringify(json), 'utf8').toString('base64')}`
}

function shadowsocksLink(inbound: ShareInbound, user: ShareUser, host: string, port: number): ShareLink {
  const {tag, protocol} = inbound
  const method = inbound.method
  if (method === undefined) return {tag, protocol, reason: 'the inbound names no method'}
  if (inbound.security !== 'none' || networkName(inbound.network) !== 'tcp') {
    return {tag, protocol, reason: 'SIP002 describes shadowsocks over plain TCP only'}
  }
  const suffix = `@${uriHost(host)}:${port}#${encodeURIComponent(user.name)}`
  if (method.toLowerCase().startsWith('2022-blake3-')) {
    const userKey = shadowsocksKey(method, user.credentials)
    const password = inbound.serverKey === undefined ? userKey : `${inbound.serverKey}:${userKey}`
    return {tag, protocol, link: `ss://${encodeURIComponent(method)}:${encodeURIComponent(password)}${suffix}`}
  }
  const userInfo = Buffer.from(`${method}:${user.credentials.password}`, 'utf8').toString('base64url')
  return {tag, protocol, link: `ss://${userInfo}${suffix}`}
}

export interface PublicAddress {
  host: string
  /** When absent, each inbound's own port. */
  port?: number
}

/**
 * `HOST`, `HOST:PORT`, `[IPv6]` or `[IPv6]:PORT` as `--public-host` takes it; undefined when it is none of these (a
 * URL, a path, spaces). A bare IPv6 address, having colons, is read as a host without a port.
 */
export function parsePublicHost(value: string): PublicAddress | undefined {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(value)
  const plain = /^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/.exec(value)
  if (bracketed === null && plain === null && /^[0-9a-fA-F:]+$/.test(value) && value.split(':').length > 2) {
    return {host: value}
  }
  const match = bracketed ?? plain
  if (match === null) return undefined
  const host = match[1]!
  if (match[2] === undefined) return {host}
  const port = Number(match[2])
  return port >= 1 && port <= 65_535 ? {host, port} : undefined
}

/** The stored form of an address (as given, but an IPv6 host without a port stays bare). */
export function formatPublicHost(address: PublicAddress): string {
  return address.port === undefined ? address.host : `${uriHost(address.host)}:${address.port}`
}
