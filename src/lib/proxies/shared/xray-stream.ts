/**
 * What a client needs of an Xray or V2Ray inbound's `streamSettings` to reach it, for share links. Field names follow
 * Xray-core's infra/conf/transport_internet.go (StreamConfig and each transport's config); V2Ray 4.x spells the ones
 * it has the same way.
 */
import {createPrivateKey, createPublicKey} from 'node:crypto'

import type {JsonValue} from '../../config-file/json-document.js'
import type {ShareInbound, ShareProtocol} from '../../domain/share-links.js'

type JsonObject = {[key: string]: JsonValue}

function object(value: JsonValue | undefined): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {}
}

function text(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

function texts(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string' && item !== '') : []
}

/** The same transport under its newer names: Xray renamed tcp to raw and splithttp to xhttp. */
const settingsKeys: Record<string, readonly string[]> = {
  tcp: ['rawSettings', 'tcpSettings'],
  raw: ['rawSettings', 'tcpSettings'],
  ws: ['wsSettings'],
  grpc: ['grpcSettings', 'gunSettings'],
  httpupgrade: ['httpupgradeSettings'],
  xhttp: ['xhttpSettings', 'splithttpSettings'],
  splithttp: ['xhttpSettings', 'splithttpSettings'],
  kcp: ['kcpSettings', 'mkcpSettings'],
  http: ['httpSettings', 'h2Settings'],
  h2: ['httpSettings', 'h2Settings'],
}

export function shareInbound(
  inbound: JsonValue,
  tag: string,
  protocol: ShareProtocol,
  extra: {flow?: string; method?: string; serverKey?: string},
): ShareInbound {
  const stream = object(object(inbound).streamSettings)
  const rawNetwork = (text(stream.network) ?? 'tcp').toLowerCase()
  const network = rawNetwork === 'splithttp' ? 'xhttp' : rawNetwork
  const transport = object((settingsKeys[network] ?? []).map((key) => stream[key]).find((value) => value !== undefined))
  const port = object(inbound).port
  const result: ShareInbound = {
    tag,
    protocol,
    port: typeof port === 'number' ? port : Number(port),
    network,
    security: 'none',
    ...withoutEmpty(extra),
  }
  switch (network) {
    case 'ws':
    case 'httpupgrade':
    case 'xhttp':
      Object.assign(
        result,
        withoutEmpty({path: text(transport.path), host: text(transport.host) ?? text(object(transport.headers).Host)}),
      )
      break
    case 'http':
    case 'h2':
      Object.assign(
        result,
        withoutEmpty({path: text(transport.path), host: texts(transport.host).join(',') || undefined}),
      )
      break
    case 'grpc':
      Object.assign(
        result,
        withoutEmpty({
          serviceName: text(transport.serviceName),
          grpcMode: transport.multiMode === true ? 'multi' : undefined,
        }),
      )
      break
    case 'tcp':
    case 'raw':
    case 'kcp': {
      const headerType = text(object(transport.header).type)
      if (headerType !== undefined && headerType !== 'none') result.headerType = headerType
      break
    }
  }
  if (protocol === 'hysteria2') Object.assign(result, salamander(stream))
  const security = (text(stream.security) ?? 'none').toLowerCase()
  if (security === 'tls') {
    const tls = object(stream.tlsSettings)
    const alpn = texts(tls.alpn)
    Object.assign(
      result,
      withoutEmpty({security: 'tls', sni: text(tls.serverName), fingerprint: text(tls.fingerprint)}),
      alpn.length > 0 ? {alpn} : {},
    )
  } else if (security === 'reality') {
    const reality = object(stream.realitySettings)
    const privateKey = text(reality.privateKey)
    Object.assign(
      result,
      withoutEmpty({
        security: 'reality',
        sni: texts(reality.serverNames)[0],
        // A REALITY client must mimic a browser's ClientHello; the server config names none, so the usual one.
        fingerprint: text(reality.fingerprint) ?? 'chrome',
        publicKey: privateKey === undefined ? undefined : realityPublicKey(privateKey),
        shortId: texts(reality.shortIds)[0] ?? (Array.isArray(reality.shortIds) ? '' : undefined),
        spiderX: text(reality.spiderX),
      }),
    )
  }
  return result
}

/**
 * Xray puts Hysteria 2's obfuscation in `streamSettings.finalmask.udp` as `{type: "salamander", settings: {password}}`
 * (infra/conf/transport_finalmask.go), which a hysteria2 link carries as `obfs`/`obfs-password`.
 */
function salamander(stream: JsonObject): {obfs?: {type: string; password: string}} {
  const masks = object(stream.finalmask).udp
  const found = (Array.isArray(masks) ? masks : []).map(object).find((mask) => mask.type === 'salamander')
  const password = text(object(found?.settings).password)
  return password === undefined ? {} : {obfs: {type: 'salamander', password}}
}

function withoutEmpty<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>
}

/** An X25519 private key in PKCS#8 is this fixed prefix and the 32 raw bytes (RFC 8410). */
const x25519Pkcs8Prefix = Buffer.from('302e020100300506032b656e04220420', 'hex')

/**
 * REALITY's public key (`pbk`) from the server's `privateKey`, as `xray x25519 -i` derives it: the key is 32 bytes in
 * unpadded base64url; undefined when it is not, so the link goes without `pbk` rather than with a wrong one.
 */
export function realityPublicKey(privateKey: string): string | undefined {
  const raw = Buffer.from(privateKey, 'base64url')
  if (raw.length !== 32) return undefined
  const key = createPrivateKey({key: Buffer.concat([x25519Pkcs8Prefix, raw]), format: 'der', type: 'pkcs8'})
  const jwk = createPublicKey(key).export({format: 'jwk'})
  return typeof jwk.x === 'string' ? jwk.x : undefined
}
