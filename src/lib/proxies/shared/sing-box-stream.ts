/**
 * What a client needs of a sing-box inbound to reach it, for share links. Field names follow sing-box's option
 * structs: option/inbound.go's listen fields, option/tls.go (InboundTLSOptions, InboundRealityOptions),
 * option/v2ray_transport.go, option/hysteria2.go and option/tuic.go.
 */
import type {JsonValue} from '../../config-file/json-document.js'
import type {ShareInbound} from '../../domain/share-links.js'
import {realityPublicKey} from './xray-stream.js'

type JsonObject = {[key: string]: JsonValue}

function object(value: JsonValue | undefined): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {}
}

function text(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** sing-box's Listable: one value or a list of them. */
function listable(value: JsonValue | undefined): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value]
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string' && item !== '') : []
}

function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>
}

export function singBoxShareInbound(
  inbound: JsonValue,
  tag: string,
  type: string,
  extra: {flow?: string; method?: string; serverKey?: string},
): ShareInbound {
  const options = object(inbound)
  const port = options.listen_port
  const transport = object(options.transport)
  const network = text(transport.type) ?? 'tcp'
  const tls = object(options.tls)
  const reality = object(tls.reality)
  const realityOn = reality.enabled === true
  const alpn = listable(tls.alpn)
  const obfs = object(options.obfs)
  const headerHost = text(object(transport.headers).Host) ?? listable(object(transport.headers).Host)[0]
  return {
    tag,
    protocol: type,
    port: typeof port === 'number' ? port : Number(port),
    network,
    security: tls.enabled === true ? (realityOn ? 'reality' : 'tls') : 'none',
    ...defined({
      ...extra,
      path: text(transport.path),
      host: listable(transport.host).join(',') || headerHost,
      serviceName: text(transport.service_name),
      sni: realityOn ? (text(tls.server_name) ?? text(object(reality.handshake).server)) : text(tls.server_name),
      alpn: alpn.length > 0 ? alpn : undefined,
      // A REALITY client must mimic a browser's ClientHello; a server config names none, so the usual one.
      fingerprint: realityOn ? 'chrome' : undefined,
      publicKey: realityOn ? realityPublicKey(text(reality.private_key) ?? '') : undefined,
      shortId: realityOn ? listable(reality.short_id)[0] : undefined,
      obfs: text(obfs.type) !== undefined ? {type: text(obfs.type)!, password: text(obfs.password) ?? ''} : undefined,
      congestionControl: text(options.congestion_control),
    }),
  }
}
