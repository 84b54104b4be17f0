import {createConnection, isIPv4} from 'node:net'
import {LOOPBACK} from './loopback-ports.js'
import {payloadByte} from './bytes-server.js'

/**
 * The proxy accepted the SOCKS connection but the data never arrived in full. V2Ray's client-side socks inbound
 * says yes to every CONNECT before the server has seen the vmess handshake, so an unknown user shows up only here:
 * as an early close, a short body or silence.
 */
export class DownloadRefusedError extends Error {
  override readonly name = 'DownloadRefusedError'
  constructor(
    message: string,
    readonly receivedBytes: number,
  ) {
    super(message)
  }
}

export interface SocksDownloadOptions {
  socksPort: number
  /** IPv4 address of the HTTP server, as seen from the proxy. */
  host: string
  port: number
  path: string
  /** Give up when nothing arrives for this long. */
  idleTimeoutMs?: number
  /** Give up when the whole transfer takes longer than this. */
  totalTimeoutMs?: number
  /** Check every byte against the bytes server's payload ramp. */
  verifyPayload?: boolean
}

type Stage = 'greeting' | 'connect' | 'headers' | 'body'

const SOCKS_VERSION = 5
const NO_AUTH = 0
const CMD_CONNECT = 1
const ATYP_IPV4 = 1
const ATYP_DOMAIN = 3
const ATYP_IPV6 = 4

/** Bytes of a SOCKS5 CONNECT reply, or undefined while the address part has not fully arrived. */
function connectReplyLength(reply: Buffer): number | undefined {
  if (reply.length < 5) return undefined
  switch (reply[3]) {
    case ATYP_IPV4:
      return 4 + 4 + 2
    case ATYP_IPV6:
      return 4 + 16 + 2
    case ATYP_DOMAIN:
      return 4 + 1 + (reply[4] ?? 0) + 2
    default:
      return Number.NaN
  }
}

/**
 * GET an HTTP/1.1 resource through a SOCKS5 proxy (no auth, CONNECT by IPv4) and resolve with the body's length once
 * all of Content-Length has arrived. Rejects with DownloadRefusedError when the tunnel breaks or stalls after the
 * SOCKS handshake, and with a plain Error when the SOCKS server itself is unreachable or misbehaves.
 */
export function socksHttpDownload(options: SocksDownloadOptions): Promise<number> {
  const {socksPort, host, port, path, idleTimeoutMs = 4000, totalTimeoutMs = 60_000, verifyPayload = true} = options
  if (!isIPv4(host)) return Promise.reject(new Error(`socksHttpDownload needs an IPv4 host, got ${host}`))

  return new Promise((resolve, reject) => {
    const socket = createConnection({host: LOOPBACK, port: socksPort})
    let stage: Stage = 'greeting'
    let pending = Buffer.alloc(0)
    let expected = -1
    let received = 0
    let settled = false

    const target = `http://${host}:${port}${path} via socks ${LOOPBACK}:${socksPort}`
    const finish = (error: Error | undefined): void => {
      if (settled) return
      settled = true
      clearTimeout(totalTimer)
      socket.destroy()
      if (error === undefined) resolve(received)
      else reject(error)
    }
    const fail = (reason: string): void => {
      const message = `${target}: ${reason}`
      const tunnelOpen = stage === 'headers' || stage === 'body'
      finish(tunnelOpen ? new DownloadRefusedError(message, received) : new Error(message))
    }
    const progress = (): string =>
      expected < 0 ? 'before any HTTP response' : `after ${received} of ${expected} bytes`

    const totalTimer = setTimeout(() => fail(`not finished within ${totalTimeoutMs} ms, ${progress()}`), totalTimeoutMs)
    socket.setTimeout(idleTimeoutMs, () => fail(`no data for ${idleTimeoutMs} ms, ${progress()}`))
    socket.once('error', (error) => fail(`${error.message}, ${progress()}`))
    socket.once('close', () => fail(`connection closed ${progress()}`))

    const onBody = (chunk: Buffer): void => {
      if (verifyPayload) {
        for (let i = 0; i < chunk.length; i++) {
          if (chunk[i] !== payloadByte(received + i)) {
            fail(`payload byte ${received + i} is ${chunk[i]}, expected ${payloadByte(received + i)}`)
            return
          }
        }
      }
      received += chunk.length
      if (received > expected) fail(`received ${received} bytes, more than Content-Length ${expected}`)
      else if (received === expected) finish(undefined)
    }

    const onHeaders = (): void => {
      const end = pending.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = pending.subarray(0, end).toString('latin1')
      const rest = pending.subarray(end + 4)
      pending = Buffer.alloc(0)
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1]
      if (status !== '200' || length === undefined) {
        fail(`unexpected HTTP response: ${head.split('\r\n')[0] ?? ''}`)
        return
      }
      expected = Number(length)
      stage = 'body'
      if (expected === 0) finish(undefined)
      else if (rest.length > 0) onBody(rest)
    }

    socket.once('connect', () => socket.write(Buffer.from([SOCKS_VERSION, 1, NO_AUTH])))
    socket.on('data', (chunk: Buffer) => {
      if (stage === 'body') {
        onBody(chunk)
        return
      }
      pending = Buffer.concat([pending, chunk])
      if (stage === 'greeting') {
        if (pending.length < 2) return
        if (pending[0] !== SOCKS_VERSION || pending[1] !== NO_AUTH) {
          fail(`SOCKS server refused no-auth (reply ${pending.subarray(0, 2).toString('hex')})`)
          return
        }
        pending = pending.subarray(2)
        stage = 'connect'
        const address = Buffer.from(host.split('.').map(Number))
        const portBytes = Buffer.from([port >> 8, port & 0xff])
        socket.write(Buffer.concat([Buffer.from([SOCKS_VERSION, CMD_CONNECT, 0, ATYP_IPV4]), address, portBytes]))
      }
      if (stage === 'connect') {
        const length = connectReplyLength(pending)
        if (length === undefined || pending.length < length) return
        if (Number.isNaN(length) || pending[1] !== 0) {
          fail(`SOCKS CONNECT failed (reply ${pending.subarray(0, 4).toString('hex')})`)
          return
        }
        pending = pending.subarray(length)
        stage = 'headers'
        socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`)
      }
      if (stage === 'headers') onHeaders()
    })
  })
}
