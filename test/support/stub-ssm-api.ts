/**
 * An emulator of sing-box's SSM API (service/ssmapi, sing-box 1.12+) that follows the upstream code, not sbq's
 * expectations:
 * - SagerNet/sing-box service/ssmapi/server.go: one chi router; each `servers` key mounts that server's routes.
 * - service/ssmapi/api.go: the routes, status codes and bodies (201 on add, 204 on update and delete, a bare 404 for an
 *   unknown user, 400 with the error text, `GET /server/v1/users` lists every user with its uPSK, `GET /stats` reads
 *   counters only for listed users and swaps them to 0 with `?clear=true`).
 * - service/ssmapi/user.go: `usersMap`; Add refuses an existing name ("user NAME already exists"); Add, Update and
 *   Delete all end in `postUpdate`, which hands the new user list to the traffic manager.
 * - service/ssmapi/traffic.go: `UpdateUsers` keeps only the listed users' counters, so a deleted user's counters are
 *   gone and a re-added user starts again at 0; a connection creates its user's counters on first use.
 * - go-chi/chi v5 mux.go `routeHTTP`: the routing path is `r.URL.RawPath` when Go set it, else `r.URL.Path`, and a
 *   `{username}` parameter is the raw segment, never unescaped. Go's net/url sets RawPath only when the sent path
 *   differs from Go's own escaping of the decoded path: `/users/alice%40example.com` keeps RawPath (Go leaves `@`
 *   unescaped in paths) and chi looks up the literal `alice%40example.com`.
 * Unmatched paths get chi's NotFound (`http.NotFound`: "404 page not found"), a known path with another method 405.
 */
import {type IncomingMessage, type Server, type ServerResponse, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {StubMode} from './stub-v2ray-api.js'

/** A user as `GET /server/v1/users/{username}` would show it. */
export interface StubSsmUser {
  uPSK: string
  uplinkBytes: number
  downlinkBytes: number
}

/** One `atomic.Int64` of traffic.go: connections hold the counter itself, not the user's name. */
interface Counter {
  value: number
}

export class StubSsmApi {
  port = 0
  mode: StubMode = 'serve'
  /** When set, GET stats answers this body verbatim (e.g. numbers past 2^53, which JSON.stringify cannot write). */
  rawStatsBody: string | null = null
  /** When set, DELETE of a listed user answers 204 but keeps the user: a server that does not apply a removal. */
  ignoreDeletes = false
  readonly requests: {method: string; url: string; body: string}[] = []
  /** user.go `usersMap`: username → uPSK. */
  private readonly usersMap = new Map<string, string>()
  /** traffic.go `userUplink` / `userDownlink`. */
  private userUplink = new Map<string, Counter>()
  private userDownlink = new Map<string, Counter>()
  private readonly globalUplink: Counter = {value: 0}
  private readonly globalDownlink: Counter = {value: 0}
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

  /** The users and their counters as the API would show them, read-only: change them through the API or the helpers. */
  get users(): ReadonlyMap<string, StubSsmUser> {
    const users = new Map<string, StubSsmUser>()
    for (const [username, uPSK] of this.usersMap) users.set(username, {uPSK, ...this.readUser(username)})
    return users
  }

  /** Puts a user on the server as `POST /server/v1/users` would (user.go Add). */
  addUser(username: string, uPSK: string): void {
    if (this.usersMap.has(username)) throw new Error(`user ${username} already exists`)
    this.usersMap.set(username, uPSK)
    this.updateUsers()
  }

  /**
   * Traffic through a connection of `username` (traffic.go TrackConnection): only a listed user gets through the
   * shadowsocks server, and the bytes go to that user's counters (made on first use) and the global ones.
   */
  addTraffic(username: string, uplink: number, downlink: number): void {
    if (!this.usersMap.has(username)) throw new Error(`sing-box has no user "${username}" to carry traffic`)
    const counter = (counters: Map<string, Counter>): Counter => {
      let found = counters.get(username)
      if (found === undefined) counters.set(username, (found = {value: 0}))
      return found
    }
    counter(this.userUplink).value += uplink
    counter(this.userDownlink).value += downlink
    this.globalUplink.value += uplink
    this.globalDownlink.value += downlink
  }

  /** A sing-box restart without `cache_path`: the managed inbound starts with no users and every counter at 0. */
  restart(): void {
    this.usersMap.clear()
    this.userUplink = new Map()
    this.userDownlink = new Map()
    this.globalUplink.value = 0
    this.globalDownlink.value = 0
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** traffic.go UpdateUsers: counters survive only for the users still listed. */
  private updateUsers(): void {
    const keep = (counters: Map<string, Counter>) =>
      new Map([...counters].filter(([username]) => this.usersMap.has(username)))
    this.userUplink = keep(this.userUplink)
    this.userDownlink = keep(this.userDownlink)
  }

  private readUser(username: string): {uplinkBytes: number; downlinkBytes: number} {
    return {
      uplinkBytes: this.userUplink.get(username)?.value ?? 0,
      downlinkBytes: this.userDownlink.get(username)?.value ?? 0,
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const target = request.url ?? '/'
    this.requests.push({method: request.method ?? '', url: target, body})
    if (this.mode === 'silent') return
    if (this.mode === 'garbage') {
      response.writeHead(200, {'content-type': 'application/json'}).end('{"users": [{"username": 12')
      return
    }
    const queryAt = target.indexOf('?')
    const sentPath = queryAt === -1 ? target : target.slice(0, queryAt)
    const query = new URLSearchParams(queryAt === -1 ? '' : target.slice(queryAt + 1))
    const path = goUnescapePath(sentPath)
    if (path === null) {
      response.writeHead(400, {'content-type': 'text/plain; charset=utf-8'}).end('400 Bad Request')
      return
    }
    const rawPath = goEscapePath(path) === sentPath ? '' : sentPath
    const routePath = rawPath !== '' ? rawPath : path
    const base = `${this.pathPrefix}/server/v1`
    const route = routePath.startsWith(base) ? routePath.slice(base.length) : null
    const userSegment = route === null ? null : (/^\/users\/([^/]+)$/.exec(route)?.[1] ?? null)
    const method = request.method ?? ''

    if (route === '/users' && method === 'GET')
      return this.json(response, {
        users: [...this.usersMap].map(([username, uPSK]) => ({username, uPSK, ...zeroCounters})),
      })
    if (route === '/users' && method === 'POST') return this.addUserRoute(body, response)
    if (route === '/stats' && method === 'GET') return this.stats(query, response)
    if (userSegment !== null && method === 'GET') return this.getUserRoute(userSegment, response)
    if (userSegment !== null && method === 'PUT') return this.updateUserRoute(userSegment, body, response)
    if (userSegment !== null && method === 'DELETE') return this.deleteUserRoute(userSegment, response)
    if (route === '/users' || route === '/stats' || userSegment !== null) {
      response.writeHead(405).end()
      return
    }
    response
      .writeHead(404, {'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff'})
      .end('404 page not found\n')
  }

  private json(response: ServerResponse, value: unknown): void {
    response.writeHead(200, {'content-type': 'application/json'}).end(`${JSON.stringify(value)}\n`)
  }

  private plainText(response: ServerResponse, status: number, text: string): void {
    response.writeHead(status, {'content-type': 'text/plain; charset=utf-8'}).end(text)
  }

  private stats(query: URLSearchParams, response: ServerResponse): void {
    if (this.rawStatsBody !== null) {
      response.writeHead(200, {'content-type': 'application/json'}).end(this.rawStatsBody)
      return
    }
    const clear = query.get('clear') === 'true'
    const swap = (counter: Counter | undefined): number => {
      const value = counter?.value ?? 0
      if (clear && counter !== undefined) counter.value = 0
      return value
    }
    const users = [...this.usersMap.keys()].map((username) => ({
      username,
      downlinkBytes: swap(this.userDownlink.get(username)),
      uplinkBytes: swap(this.userUplink.get(username)),
      downlinkPackets: 0,
      uplinkPackets: 0,
      tcpSessions: 0,
      udpSessions: 0,
    }))
    this.json(response, {
      uplinkBytes: swap(this.globalUplink),
      downlinkBytes: swap(this.globalDownlink),
      uplinkPackets: 0,
      downlinkPackets: 0,
      tcpSessions: 0,
      udpSessions: 0,
      users,
    })
  }

  private addUserRoute(body: string, response: ServerResponse): void {
    const request = decodeJson(body)
    if (typeof request === 'string') return this.plainText(response, 400, request)
    const username = typeof request['username'] === 'string' ? request['username'] : ''
    const uPSK = typeof request['uPSK'] === 'string' ? request['uPSK'] : ''
    if (this.usersMap.has(username)) return this.plainText(response, 400, `user ${username} already exists`)
    this.usersMap.set(username, uPSK)
    this.updateUsers()
    response.writeHead(201).end()
  }

  private getUserRoute(username: string, response: ServerResponse): void {
    const uPSK = this.usersMap.get(username)
    if (uPSK === undefined) {
      response.writeHead(404).end()
      return
    }
    this.json(response, {username, uPSK, ...zeroCounters, ...this.readUser(username)})
  }

  private updateUserRoute(username: string, body: string, response: ServerResponse): void {
    const request = decodeJson(body)
    if (typeof request === 'string') return this.plainText(response, 400, request)
    if (!this.usersMap.has(username)) {
      response.writeHead(404).end()
      return
    }
    this.usersMap.set(username, typeof request['uPSK'] === 'string' ? request['uPSK'] : '')
    this.updateUsers()
    response.writeHead(204).end()
  }

  private deleteUserRoute(username: string, response: ServerResponse): void {
    if (!this.usersMap.has(username)) {
      response.writeHead(404).end()
      return
    }
    if (!this.ignoreDeletes) {
      this.usersMap.delete(username)
      this.updateUsers()
    }
    response.writeHead(204).end()
  }
}

const zeroCounters = {
  downlinkBytes: 0,
  uplinkBytes: 0,
  downlinkPackets: 0,
  uplinkPackets: 0,
  tcpSessions: 0,
  udpSessions: 0,
}

/** render.DecodeJSON into a struct of strings: a JSON object, or the error text the API answers with a 400. */
function decodeJson(body: string): Record<string, unknown> | string {
  try {
    const parsed: unknown = JSON.parse(body)
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>
    return 'json: cannot unmarshal into Go value of type struct'
  } catch {
    return body.trim() === '' ? 'EOF' : 'invalid character in JSON'
  }
}

/** Go net/url `unescape(s, encodePath)`: %XX decoded as bytes, then UTF-8; null for a bad escape (Go's 400). */
function goUnescapePath(raw: string): string | null {
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) return null
  const bytes: number[] = []
  for (let index = 0; index < raw.length; index++) {
    if (raw[index] === '%') {
      bytes.push(Number.parseInt(raw.slice(index + 1, index + 3), 16))
      index += 2
    } else {
      bytes.push(...Buffer.from(raw[index]!, 'utf8'))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/** Go net/url `escape(s, encodePath)` (shouldEscape): letters, digits, `-_.~` and `$&+,/:;=@` stay; all else is %XX. */
function goEscapePath(path: string): string {
  let escaped = ''
  for (const byte of Buffer.from(path, 'utf8')) {
    const char = String.fromCharCode(byte)
    escaped += /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return escaped
}
