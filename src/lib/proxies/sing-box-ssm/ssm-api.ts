/**
 * sing-box's SSM API (service `ssm-api`, sing-box 1.12+): HTTP JSON over one managed shadowsocks 2022 inbound.
 * Counters are mapped onto the gRPC API's names so the accounting treats every proxy alike.
 */
import {Agent, request} from 'undici'
import {SbqError, invalidInput, unreachable} from '../../errors.js'
import type {
  CounterSample,
  ExpectedUsers,
  InboundTarget,
  ManagedUser,
  ProxyApi,
  StatsSnapshot,
} from '../proxy-driver.js'
import {SsmFormatError, parseSsmStats, parseSsmUsers} from './ssm-json.js'
import {usersNamed} from '../shared/users-named.js'

export interface SingBoxSsmApiOptions {
  /**
   * The API's URL including the server's path from the `servers` map, e.g. `http://127.0.0.1:9000` for
   * `servers: {"/": "ss-in"}` or `http://127.0.0.1:9000/ss` for `{"/ss": "ss-in"}`.
   */
  baseUrl: string
  /** When given, the inbound's totals are reported as `inbound>>>TAG>>>traffic>>>uplink|downlink`. */
  inboundTag?: string
  /** Deadline for each request; 10 s by default. */
  timeoutMs?: number
}

export interface SingBoxSsmApi extends ProxyApi {
  readonly baseUrl: string
  addUser(inbound: InboundTarget, user: ManagedUser): Promise<void>
  removeUser(inbound: InboundTarget, name: string): Promise<void>
  confirmUsers(inbound: InboundTarget, expected: ExpectedUsers): Promise<void>
}

const defaultTimeoutMs = 10_000
const apiHint = 'check sing-box is running and its ssm-api service listens there'
const shortKeyMethod = '2022-blake3-aes-128-gcm'

interface HttpReply {
  status: number
  body: string
}

function describeTimeout(timeoutMs: number): string {
  return timeoutMs % 1000 === 0 ? `${timeoutMs / 1000}s` : `${timeoutMs}ms`
}

function normalizeBaseUrl(baseUrl: string): string {
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch {
    throw invalidInput(
      'SSM_URL_INVALID',
      `ssm api url "${baseUrl}" is not a url`,
      'give it as e.g. http://127.0.0.1:9000',
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidInput(
      'SSM_URL_INVALID',
      `ssm api url "${baseUrl}" is not http or https`,
      'give it as e.g. http://127.0.0.1:9000',
    )
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

/**
 * A user's path, `/server/v1/users/NAME`, with NAME escaped exactly as Go's net/url escapes a path. Go then leaves
 * `URL.RawPath` empty, and chi, which routes on RawPath whenever it is set and never unescapes a `{username}`
 * (go-chi/chi mux.go routeHTTP), sees the name itself. encodeURIComponent would send `@` as `%40`, which Go keeps as
 * RawPath: chi would look up the literal `alice%40example.com` and sing-box answer 404.
 */
export function userPath(name: string): string {
  let escaped = ''
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte)
    escaped += goPathSafe.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return `/server/v1/users/${escaped}`
}

/** What net/url's shouldEscape leaves alone in a path: unreserved characters and `$&+,/:;=@`. */
const goPathSafe = /^[A-Za-z0-9\-_.~$&+,/:;=@]$/

export function userCounterName(name: string, direction: 'uplink' | 'downlink'): string {
  return `user>>>${name}>>>traffic>>>${direction}`
}

export function createSingBoxSsmApi(options: SingBoxSsmApiOptions): SingBoxSsmApi {
  const baseUrl = normalizeBaseUrl(options.baseUrl)
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw invalidInput(
      'SSM_TIMEOUT_INVALID',
      `ssm api timeout "${timeoutMs}" is not a positive number of milliseconds`,
      'give a whole number of milliseconds above 0',
    )
  }
  // An agent of our own so close() can release its keep-alive sockets and let a cron run exit promptly.
  const agent = new Agent({connect: {timeout: timeoutMs}})
  const node = `ssm api "${baseUrl}"`

  async function send(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, json?: unknown): Promise<HttpReply> {
    try {
      const reply = await request(`${baseUrl}${path}`, {
        method,
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
        headers: json === undefined ? {} : {'content-type': 'application/json'},
        body: json === undefined ? null : JSON.stringify(json),
      })
      return {status: reply.statusCode, body: await reply.body.text()}
    } catch (error) {
      const name = error instanceof Error ? error.name : ''
      if (name === 'TimeoutError' || name === 'AbortError' || name === 'ConnectTimeoutError') {
        throw unreachable('NODE_TIMEOUT', `${node} did not answer within ${describeTimeout(timeoutMs)}`, apiHint, error)
      }
      const detail = error instanceof Error ? (errorCode(error) ?? error.message) : String(error)
      throw unreachable('NODE_UNREACHABLE', `${node} is unreachable: ${detail}`, apiHint, error)
    }
  }

  function badStatus(what: string, reply: HttpReply): SbqError {
    return unreachable(
      'NODE_API_ERROR',
      `${node} answered ${what} with http ${reply.status}: "${reply.body.trim().slice(0, 200)}"`,
      'check the url includes the path of the server from the ssm-api "servers" map',
    )
  }

  function parseReply<T>(parse: (body: string) => T, reply: HttpReply, what: string): T {
    try {
      return parse(reply.body)
    } catch (error) {
      if (error instanceof SsmFormatError) {
        throw unreachable('NODE_API_MALFORMED', `${node} sent a malformed ${what}: ${error.message}`, apiHint, error)
      }
      throw error
    }
  }

  async function readStats(): Promise<StatsSnapshot> {
    // Without `clear`, the counters are cumulative (since start, or since the cache file's last save).
    const reply = await send('GET', '/server/v1/stats')
    if (reply.status !== 200) throw badStatus('GET /server/v1/stats', reply)
    const stats = parseReply(parseSsmStats, reply, 'stats reply')
    const counters: CounterSample[] = []
    for (const user of stats.users) {
      counters.push(
        {name: userCounterName(user.username, 'uplink'), value: user.uplinkBytes},
        {name: userCounterName(user.username, 'downlink'), value: user.downlinkBytes},
      )
    }
    if (options.inboundTag !== undefined) {
      counters.push(
        {name: `inbound>>>${options.inboundTag}>>>traffic>>>uplink`, value: stats.uplinkBytes},
        {name: `inbound>>>${options.inboundTag}>>>traffic>>>downlink`, value: stats.downlinkBytes},
      )
    }
    return {counters, uptimeSeconds: null}
  }

  function keyFor(inbound: InboundTarget, user: ManagedUser): string {
    return inbound.method === shortKeyMethod ? user.credentials.password16 : user.credentials.password
  }

  async function addUser(inbound: InboundTarget, user: ManagedUser): Promise<void> {
    const uPSK = keyFor(inbound, user)
    const created = await send('POST', '/server/v1/users', {username: user.name, uPSK})
    if (created.status === 201 || created.status === 200 || created.status === 204) return
    if (created.status === 400 && created.body.includes('already exists')) {
      // Present already, maybe with an older key: set the key so the result matches a fresh add.
      const updated = await send('PUT', userPath(user.name), {uPSK})
      if (updated.status === 204 || updated.status === 200) return
      throw badStatus(`PUT ${userPath(user.name)}`, updated)
    }
    throw badStatus('POST /server/v1/users', created)
  }

  async function removeUser(_inbound: InboundTarget, name: string): Promise<void> {
    const path = userPath(name)
    const reply = await send('DELETE', path)
    // sing-box answers a bare 404 for a name it does not have: removed already, or a name that reached it changed,
    // which confirmUsers tells apart. A 404 with a body is the router's "404 page not found": the url's path is wrong.
    if (reply.status === 204 || reply.status === 200) return
    if (reply.status === 404 && reply.body.trim() === '') return
    throw badStatus(`DELETE ${path}`, reply)
  }

  async function confirmUsers(inbound: InboundTarget, expected: ExpectedUsers): Promise<void> {
    const reply = await send('GET', '/server/v1/users')
    if (reply.status !== 200) throw badStatus('GET /server/v1/users', reply)
    const listed = parseReply(parseSsmUsers, reply, 'user list')
    const stillThere = expected.absent.filter((name) => listed.has(name))
    const missing = expected.present.filter((user) => !listed.has(user.name)).map((user) => user.name)
    const otherKey = expected.present
      .filter((user) => listed.has(user.name) && listed.get(user.name) !== keyFor(inbound, user))
      .map((user) => user.name)
    const problems = [
      stillThere.length === 0 ? '' : `still has ${usersNamed(stillThere)} that sbq removed`,
      missing.length === 0 ? '' : `does not have ${usersNamed(missing)} that sbq added`,
      otherKey.length === 0 ? '' : `has ${usersNamed(otherKey)} with another key than sbq gave`,
    ].filter(Boolean)
    if (problems.length > 0) {
      throw unreachable(
        'NODE_CHANGE_NOT_APPLIED',
        `${node} ${problems.join('; ')}`,
        "check the sing-box log, and that nothing else changes this server's users",
      )
    }
  }

  return {
    baseUrl,
    // user.go Delete hands the remaining users to traffic.go UpdateUsers, which keeps only their counters.
    counterLifetime: 'user',
    readStats,
    addUser,
    removeUser,
    confirmUsers,
    close: (): void => {
      void agent.close()
    },
  }
}

function errorCode(error: Error): string | undefined {
  const code: unknown = (error as {code?: unknown}).code
  const cause: unknown = error.cause
  if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return `${code} (${error.message})`
  if (cause instanceof Error) return errorCode(cause) ?? cause.message
  return undefined
}
