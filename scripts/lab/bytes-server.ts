import {createServer, type Server} from 'node:http'
import {LOOPBACK} from './loopback-ports.js'

/** The payload is a repeating 0..250 ramp: a prime period makes shifted, truncated or duplicated data detectable. */
const PATTERN_PERIOD = 251
const MAX_BYTES = 1024 * 1024 * 1024
/** A whole number of periods, so consecutive chunks continue the ramp without offset bookkeeping. */
const CHUNK = Buffer.from(Array.from({length: PATTERN_PERIOD * 256}, (_, i) => i % PATTERN_PERIOD))

/** The byte `GET /bytes/N` serves at `offset`. */
export function payloadByte(offset: number): number {
  return offset % PATTERN_PERIOD
}

export interface BytesServer {
  readonly port: number
  close(): Promise<void>
}

/** An HTTP server on loopback answering `GET /bytes/N` with exactly N bytes of the payload ramp. */
export function startBytesServer(): Promise<BytesServer> {
  const server: Server = createServer((request, response) => {
    const match = /^\/bytes\/(\d{1,10})$/.exec(request.url ?? '')
    const size = match?.[1] === undefined ? NaN : Number(match[1])
    if (request.method !== 'GET' || !Number.isSafeInteger(size) || size > MAX_BYTES) {
      response.writeHead(404, {'content-length': 0}).end()
      return
    }
    response.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': size})
    let remaining = size
    const pump = (): void => {
      while (remaining > 0) {
        const chunk = remaining >= CHUNK.length ? CHUNK : CHUNK.subarray(0, remaining)
        remaining -= chunk.length
        if (!response.write(chunk)) {
          response.once('drain', pump)
          return
        }
      }
      response.end()
    }
    pump()
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, LOOPBACK, () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        reject(new Error('bytes server has no TCP port'))
        return
      }
      resolve({
        port: address.port,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections()
            server.close(() => done())
          }),
      })
    })
  })
}
