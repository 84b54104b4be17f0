/**
 * A stand-in for sing-box's SSM API (service/ssmapi in sing-box 1.12+), with its routes, status codes and error
 * texts: users with uPSKs, cumulative per-user counters, `?clear=true` swapping them to zero.
 */
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {StubMode} from './stub-v2ray-api.js'

export interface StubSsmUser {
  uPSK: string
  uplinkBytes: number
  downlinkBytes: number
}

export class StubSsmApi {
  port = 0
  mode: StubMode = 'serve'
  /** When set, GET stats answers this body verbatim (e.g. numbers past 2^53, which JSON.stringify cannot write). */
  rawStatsBody: string | null = null
  readonly users = new Map<string, StubSsmUser>()
  readonly requests: {method: string; url: string; body: string}[] = []
  private readonly server: Server

  private constructor(private readonly pathPrefix: string) {
    this.server = createServer((request, response) => {
      void this.handle(request, response)
    })
  }

  /** `pathPrefix` is the key of the ssm-api `servers` map, '' for "/". */
  static async start(pathPrefix = ''): Promise<StubSsmApi> {
    const stub = new StubSsmApi(pathPrefix)
    await new Promise<void>((resolve) => stub.server.listen(0, '127.0.0.1', resolve))
    stub.port = (stub.server.address() as AddressInfo).port
    return stub
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}${this.pathPrefix}`
  }

  addTraffic(username: string, uplink: number, downlink: number): void {
    const user = this.users.get(username)
    if (user === undefined) throw new Error(`stub has no user "${username}"`)
    user.uplinkBytes += uplink
    user.downlinkBytes += downlink
  }

  /** Without a cache file, a sing-box restart empties the user list and every counter. */
  restart(): void {
    this.users.clear()
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const url = new URL(request.url ?? '/', 'http://stub')
    this.requests.push({method: request.method ?? '', url: `${url.pathname}${url.search}`, body})
    if (this.mode === 'silent') return
    if (this.mode === 'garbage') {
      response.writeHead(200, {'content-type': 'application/json'}).end('{"users": [{"username": 12')
      return
    }
    const route = url.pathname.startsWith(`${this.pathPrefix}/server/v1`)
      ? url.pathname.slice(`${this.pathPrefix}/server/v1`.length)
      : null
    const userPath = route === null ? null : /^\/users\/([^/]+)$/.exec(route)
    const username = userPath?.[1] === undefined ? null : decodeURIComponent(userPath[1])

    if (request.method === 'GET' && route === '/stats') return this.stats(url, response)
    if (request.method === 'POST' && route === '/users') return this.addUser(body, response)
    if (request.method === 'PUT' && username !== null) return this.updateUser(username, body, response)
    if (request.method === 'DELETE' && username !== null) {
      response.writeHead(this.users.delete(username) ? 204 : 404).end()
      return
    }
    response.writeHead(404, {'content-type': 'text/plain'}).end('404 page not found\n')
  }

  private stats(url: URL, response: ServerResponse): void {
    if (this.rawStatsBody !== null) {
      response.writeHead(200, {'content-type': 'application/json'}).end(this.rawStatsBody)
      return
    }
    const users = [...this.users].map(([username, user]) => ({
      username,
      downlinkBytes: user.downlinkBytes,
      uplinkBytes: user.uplinkBytes,
      downlinkPackets: 0,
      uplinkPackets: 0,
      tcpSessions: 0,
      udpSessions: 0,
    }))
    const total = (pick: (user: StubSsmUser) => number): number => [...this.users.values()].reduce((sum, user) => sum + pick(user), 0)
    const reply = {
      uplinkBytes: total((user) => user.uplinkBytes),
      downlinkBytes: total((user) => user.downlinkBytes),
      uplinkPackets: 0,
      downlinkPackets: 0,
      tcpSessions: 0,
      udpSessions: 0,
      users,
    }
    if (url.searchParams.get('clear') === 'true') {
      for (const user of this.users.values()) {
        user.uplinkBytes = 0
        user.downlinkBytes = 0
      }
    }
    response.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify(reply))
  }

  private addUser(body: string, response: ServerResponse): void {
    const request = parseJsonObject(body)
    if (typeof request?.username !== 'string' || typeof request.uPSK !== 'string') {
      response.writeHead(400, {'content-type': 'text/plain'}).end('invalid character in JSON')
      return
    }
    if (this.users.has(request.username)) {
      response.writeHead(400, {'content-type': 'text/plain'}).end(`user ${request.username} already exists`)
      return
    }
    this.users.set(request.username, {uPSK: request.uPSK, uplinkBytes: 0, downlinkBytes: 0})
    response.writeHead(201).end()
  }

  private updateUser(username: string, body: string, response: ServerResponse): void {
    const request = parseJsonObject(body)
    const user = this.users.get(username)
    if (user === undefined) {
      response.writeHead(404).end()
      return
    }
    if (typeof request?.uPSK !== 'string') {
      response.writeHead(400, {'content-type': 'text/plain'}).end('invalid character in JSON')
      return
    }
    user.uPSK = request.uPSK
    response.writeHead(204).end()
  }
}

function parseJsonObject(body: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(body)
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null
  } catch {
    return null
  }
}
