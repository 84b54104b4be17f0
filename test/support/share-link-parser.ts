/**
 * Reads share links back, written from each format's published description and not from sbq's builder:
 * - VLESS / Trojan: XTLS/Xray-core discussion #716 ("VMessAEAD / VLESS 分享链接标准提案"): `scheme://id@host:port?k=v#remark`,
 *   every component percent-encoded, IPv6 hosts in brackets.
 * - VMess: v2rayN's QR-code JSON (2dust/v2rayN wiki, "分享链接格式说明"), base64 after `vmess://`.
 * - Shadowsocks: SIP002 (`ss://userinfo@host:port#tag`, userinfo base64url of `method:password`), and SIP022's
 *   rule that a 2022 method's userinfo is `method:password` percent-encoded, not base64.
 * - Hysteria 2: its URI scheme (v2.hysteria.network/docs/developers/URI-Scheme/): `hysteria2://auth@host:port/?sni=
 *   &obfs=&obfs-password=&insecure=#name`.
 * - AnyTLS: anytls-go's docs/uri_scheme.md: `anytls://password@host:port/?sni=&insecure=#name`.
 * - TUIC and NaïveProxy, which publish no scheme: as NekoBox and v2rayN read them, `tuic://uuid:password@host:port?
 *   congestion_control=&alpn=&sni=#name` and `naive+https://user:password@host:port#name`.
 */
export interface ParsedLink {
  scheme: 'vless' | 'trojan' | 'vmess' | 'ss' | 'hysteria2' | 'anytls' | 'tuic' | 'naive+https'
  /** uuid (vless, vmess, tuic), password (trojan, ss, hysteria2, anytls) or user name (naive). */
  secret: string
  /** tuic and naive: the password after the colon. */
  password?: string
  method?: string
  host: string
  port: number
  remark: string
  params: Record<string, string>
}

function splitAuthority(rest: string): {userinfo: string; host: string; port: number; after: string} {
  const at = rest.lastIndexOf('@', rest.search(/[?#]|$/))
  const userinfo = rest.slice(0, at)
  const hostPart = rest.slice(at + 1)
  const match = /^(\[[^\]]+\]|[^:/?#]+):(\d+)(.*)$/.exec(hostPart)
  if (match === null) throw new Error(`no host:port in "${hostPart}"`)
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!
  return {userinfo, host, port: Number(match[2]), after: match[3]!}
}

function queryAndFragment(after: string): {params: Record<string, string>; remark: string} {
  const hash = after.indexOf('#')
  const query = hash === -1 ? after : after.slice(0, hash)
  const remark = hash === -1 ? '' : decodeURIComponent(after.slice(hash + 1))
  const params: Record<string, string> = {}
  for (const pair of query.replace(/^\?/, '').split('&').filter(Boolean)) {
    const eq = pair.indexOf('=')
    params[decodeURIComponent(pair.slice(0, eq))] = decodeURIComponent(pair.slice(eq + 1))
  }
  return {params, remark}
}

export function parseShareLink(link: string): ParsedLink {
  const scheme = /^([a-z0-9+]+):\/\//.exec(link)?.[1]
  const rest = link.slice(`${scheme}://`.length)
  if (scheme === 'vmess') {
    const json = JSON.parse(Buffer.from(rest, 'base64').toString('utf8')) as Record<string, string>
    const {id, add, port, ps, ...params} = json
    return {scheme, secret: id!, host: add!, port: Number(port), remark: ps!, params}
  }
  if (scheme === 'tuic' || scheme === 'naive+https') {
    const {userinfo, host, port, after} = splitAuthority(rest)
    const colon = userinfo.indexOf(':')
    return {
      scheme,
      secret: decodeURIComponent(userinfo.slice(0, colon)),
      password: decodeURIComponent(userinfo.slice(colon + 1)),
      host,
      port,
      ...queryAndFragment(after.replace(/^\//, '')),
    }
  }
  if (scheme === 'hysteria2' || scheme === 'anytls') {
    const {userinfo, host, port, after} = splitAuthority(rest)
    return {scheme, secret: decodeURIComponent(userinfo), host, port, ...queryAndFragment(after.replace(/^\//, ''))}
  }
  if (scheme === 'vless' || scheme === 'trojan') {
    const {userinfo, host, port, after} = splitAuthority(rest)
    return {scheme, secret: decodeURIComponent(userinfo), host, port, ...queryAndFragment(after)}
  }
  if (scheme === 'ss') {
    const {userinfo, host, port, after} = splitAuthority(rest)
    const plain = decodeURIComponent(userinfo)
    const decoded = plain.includes(':') ? plain : Buffer.from(userinfo, 'base64url').toString('utf8')
    const colon = decoded.indexOf(':')
    return {
      scheme,
      method: decoded.slice(0, colon),
      secret: decoded.slice(colon + 1),
      host,
      port,
      ...queryAndFragment(after),
    }
  }
  throw new Error(`not a share link: ${link.slice(0, 20)}`)
}

/**
 * A V2Ray 4.x client config that dials what a parsed vmess or vless link describes: one auth-less socks inbound on
 * loopback, one outbound built from the link's fields only (plain TCP or WebSocket, no TLS: what the lab serves).
 */
export function v2rayClientConfig(link: ParsedLink, socksPort: number): object {
  const network = link.scheme === 'vmess' ? link.params.net : link.params.type
  const path = link.params.path
  const user =
    link.scheme === 'vmess'
      ? {id: link.secret, alterId: Number(link.params.aid ?? 0), security: link.params.scy || 'auto'}
      : {id: link.secret, encryption: link.params.encryption ?? 'none'}
  if (link.scheme !== 'vmess' && link.scheme !== 'vless') throw new Error(`no V2Ray client for ${link.scheme}`)
  return {
    log: {loglevel: 'warning'},
    inbounds: [{listen: '127.0.0.1', port: socksPort, protocol: 'socks', settings: {auth: 'noauth', udp: false}}],
    outbounds: [
      {
        protocol: link.scheme,
        settings: {vnext: [{address: link.host, port: link.port, users: [user]}]},
        streamSettings: {
          network: network || 'tcp',
          security: 'none',
          ...(network === 'ws' ? {wsSettings: {path: path || '/'}} : {}),
        },
      },
    ],
  }
}
