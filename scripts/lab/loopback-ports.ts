import {createConnection, createServer, type Server} from 'node:net'

export const LOOPBACK = '127.0.0.1'

function listenOnEphemeralPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, LOOPBACK, () => resolve(server))
  })
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

/**
 * `count` distinct loopback ports that were free a moment ago. All are held open together so the kernel cannot hand
 * out the same one twice; another process may still take one before v2ray binds it, which callers handle by retrying.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: Server[] = []
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnEphemeralPort())
    return servers.map((server) => {
      const address = server.address()
      if (address === null || typeof address === 'string') throw new Error('ephemeral listener has no TCP port')
      return address.port
    })
  } finally {
    await Promise.all(servers.map(closeServer))
  }
}

/** Whether something accepts TCP connections on the loopback port right now. */
export function acceptsConnections(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({host: LOOPBACK, port})
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}
