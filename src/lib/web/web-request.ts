import type {IncomingMessage} from 'node:http'

/** Cookies of a request by name; a malformed pair is skipped, the first of a repeated name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>()
  for (const pair of (header ?? '').split(';').map((part) => part.trim())) {
    const at = pair.indexOf('=')
    if (at <= 0) continue
    const name = pair.slice(0, at).trim()
    if (cookies.has(name)) continue
    try {
      cookies.set(name, decodeURIComponent(pair.slice(at + 1).trim()))
    } catch {
      // Not percent-encoding sbq wrote: not sbq's cookie.
    }
  }
  return cookies
}

export interface CookieOptions {
  /** Seconds; 0 deletes the cookie; undefined makes it last as long as the browser session. */
  maxAge?: number
  httpOnly?: boolean
  secure: boolean
}

/**
 * A cookie's name as sent: with the `__Host-` prefix when it is Secure. Browsers keep such a cookie only when it is
 * Secure, has Path=/ and no Domain, so a sibling subdomain or a plain-HTTP page cannot plant or overwrite it. Without
 * Secure the prefix would make browsers drop the cookie, so plain HTTP (an SSH tunnel) keeps the bare name.
 */
export function cookieName(name: string, secure: boolean): string {
  return secure ? `__Host-${name}` : name
}

/** A Set-Cookie value: path /, no Domain, SameSite=Strict always, HttpOnly unless told otherwise. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'SameSite=Strict']
  if (options.httpOnly !== false) parts.push('HttpOnly')
  if (options.secure) parts.push('Secure')
  if (options.maxAge !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAge))}`)
  return parts.join('; ')
}

/**
 * Whether a socket peer is this machine (127.0.0.0/8, also as `::ffff:127.x`, or ::1): the only peer that can be the
 * reverse proxy `--trust-proxy` means, since the proxy runs beside sbq.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false
  const v4 = address.toLowerCase().replace(/^::ffff:/, '')
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1'
}

/** Whether the request's forwarding headers are the proxy's: `--trust-proxy` is on and the peer is loopback. */
function fromTrustedProxy(request: IncomingMessage, trustProxy: boolean): boolean {
  return trustProxy && isLoopbackAddress(request.socket.remoteAddress)
}

/**
 * Whether the browser reached sbq over TLS: only a reverse proxy that terminates TLS can say so, in
 * X-Forwarded-Proto, and only when the operator said that header can be trusted (`--trust-proxy`) and the request
 * came from loopback (anyone else reaching a non-loopback `--listen` could claim anything).
 */
export function requestIsSecure(request: IncomingMessage, trustProxy: boolean): boolean {
  if (fromTrustedProxy(request, trustProxy)) {
    const proto = request.headers['x-forwarded-proto']
    const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase()
    if (first !== undefined) return first === 'https'
  }
  return 'encrypted' in request.socket && request.socket.encrypted === true
}

/**
 * The client's address for the login rate limit: the socket's peer, or behind a trusted proxy on loopback the last
 * address the proxy appended to X-Forwarded-For (earlier entries come from the client and prove nothing).
 */
export function clientIp(request: IncomingMessage, trustProxy: boolean): string {
  if (fromTrustedProxy(request, trustProxy)) {
    const header = request.headers['x-forwarded-for']
    const list = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
    const last = list[list.length - 1]
    if (last !== undefined) return last
  }
  return request.socket.remoteAddress ?? 'unknown'
}

/**
 * The request target as a URL on sbq's own origin. Leading slashes (and backslashes, which URL parsing reads as
 * slashes) are collapsed first: resolved against a base, `//evil.example/x` would make `evil.example` the host and
 * `/x` the path, and a redirect built from that path could leave the site.
 */
export function requestUrl(target: string | undefined): URL {
  return new URL(`http://sbq/${(target ?? '/').replace(/^[/\\]+/, '')}`)
}

/** A path a redirect may name: one slash, then not another (nor a backslash), so never `//host` or `/\host`. */
export const sameOriginPath = /^\/(?![/\\])/

export class FormError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message)
  }
}

/** The largest form the dashboard takes: its forms are a few short fields. */
export const formLimit = 16 * 1024

/** An `application/x-www-form-urlencoded` body, refused when it is another type or over `limit` bytes. */
export async function readForm(request: IncomingMessage, limit = formLimit): Promise<URLSearchParams> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded')
    throw new FormError(415, `form content type "${type}" is not application/x-www-form-urlencoded`)
  if (Number(request.headers['content-length'] ?? 0) > limit) throw new FormError(413, `form over ${limit} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > limit) throw new FormError(413, `form over ${limit} bytes`)
    chunks.push(chunk as Buffer)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

/**
 * This server as the browser reached it (scheme and Host), for whole URLs when `subscription-url` is not set; a Host
 * header that is not a plain host[:port] is not repeated back.
 */
export function requestOrigin(request: IncomingMessage, trustProxy: boolean): string {
  const header = request.headers.host ?? ''
  const host = /^[A-Za-z0-9.:[\]-]{1,255}$/.test(header) ? header : 'localhost'
  return `${requestIsSecure(request, trustProxy) ? 'https' : 'http'}://${host}`
}
