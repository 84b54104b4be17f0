import {isIP} from 'node:net'

import {invalidInput} from '../errors.js'

export const defaultListen = '127.0.0.1:8787'
export const defaultPublicUrl = `http://${defaultListen}`

/** The URL to paste into 3x-ui's "External Traffic Inform URI": the node and its token in the path. */
export function informUri(publicUrl: string, node: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/inform/${encodeURIComponent(node)}/${token}`
}

/** An http(s) base URL, without query or fragment; a path is kept (sbq may sit under a reverse proxy's prefix). */
export function assertBaseUrl(flag: string, value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalidInput(
      'INVALID_URL',
      `${flag} "${value}" is not a URL`,
      `give a full URL, like ${flag} https://sbq.example.com`,
    )
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw invalidInput(
      'INVALID_URL',
      `${flag} "${value}" is not an http(s) URL without query or credentials`,
      `give a URL like ${flag} https://sbq.example.com`,
    )
  }
  return value.replace(/\/+$/, '')
}

/** Newer 3x-ui refuses to inform loopback and private addresses; the operator is told before pasting such a URL. */
export function isPrivateUrl(value: string): boolean {
  const host = new URL(value).hostname.replace(/^\[|\]$/g, '')
  if (host === 'localhost' || host.endsWith('.local')) return true
  if (isIP(host) === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number]
    return (
      a === 127 ||
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      a === 0
    )
  }
  if (isIP(host) === 6) return host === '::1' || /^f[cd]/i.test(host) || /^fe80/i.test(host)
  return false
}
