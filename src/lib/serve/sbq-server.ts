import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'

import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {recordRefusal, type Refusal} from '../db/nodes-repository.js'
import type {NodeRow} from '../db/schema.js'
import {InformParser} from '../inform/inform-parser.js'
import {InformPayloadError} from '../inform/inform-payload.js'
import {informTokenMatches} from '../inform/inform-token.js'
import {findInformSender, recordInform} from '../accounting/record-inform.js'
import {requestIdHeader} from '../inform/inform-payload.js'
import {metricsContentType, renderMetrics} from './metrics-text.js'
import {clientIp, requestUrl} from '../web/web-request.js'
import {LoginRateLimit, rateLimitKey} from '../web/login-rate-limit.js'
import {subscriptionFormat} from '../domain/subscriptions.js'
import {subscriptionReply} from '../share-links/subscription.js'
import {collectMetrics} from './metrics.js'
import type {UserPortalHandler} from '../web/user-portal.js'
import type {AssetServer} from '../web/static-assets.js'

type UserPortal = {page: UserPortalHandler; assets: AssetServer}

export interface ServerOptions {
  db: Db
  /** The clock and zone for each request (SBQ_NOW in tests). */
  context: () => Promise<Context>
  /** Largest inform body, bytes. */
  bodyLimit: number
  /** sha256 of the /metrics bearer token; null serves /metrics to anyone. */
  metricsTokenHash: string | null
  /** One line for the operator: failures, and every report refused (3x-ui never reads the answer). */
  log: (line: string) => void
  /** The web dashboard, which answers every other path; null when it is off (no admin password). */
  dashboard?: ((request: IncomingMessage, response: ServerResponse) => Promise<void>) | null
  /** Users' own pages (`/u/<token>`) and, when the dashboard is off, the stylesheet and script they use. */
  userPortal?: UserPortal | null
  /** `--trust-proxy`: a subscription's client address is the reverse proxy's X-Forwarded-For (rate limit per IP). */
  trustProxy?: boolean
}

/** What a refused body costs at most to read before the connection is cut: enough for a client to see the 413. */
const drainAllowance = 16 * 1024 * 1024
const informPath = /^\/inform\/([^/]+)\/([^/]+)\/?$/
const requestIdPattern = /^[\x21-\x7e]{1,128}$/
const subscriptionPath = /^\/sub\/([^/]+)\/?$/
const userPagePath = /^\/u\/([^/]+)\/?$/
/**
 * Clients refresh a subscription every few hours and a user opens their page now and then; this many requests a
 * minute from one address, both counted together, is plenty for them and far too slow to guess a token.
 */
const subscriptionRequestsPerMinute = 30

/**
 * `sbq serve`'s HTTP server: 3x-ui reports (and pushes from other sbq) on /inform/<node>/<token>, /healthz and
 * /metrics. Every inform failure of the sender's making is answered before anything is written; a wrong node and a
 * wrong token are the same 404, so the server tells nobody which nodes exist.
 */
export function createSbqServer(options: ServerOptions): Server {
  const parser = new InformParser()
  const subscriptionLimit = new LoginRateLimit(subscriptionRequestsPerMinute, 60_000)
  const server = createServer((request, response) => {
    handle(request, response, options, parser, subscriptionLimit).catch((error: unknown) => {
      options.log(`error: ${request.method} ${redactedPath(request.url)} failed: ${(error as Error).message}`)
      if (!response.headersSent) reply(response, 500, 'internal error\n')
      else response.destroy()
    })
  })
  // Bounds a sender that trickles: 3x-ui gives up after 3 s anyway.
  server.requestTimeout = 30_000
  server.headersTimeout = 10_000
  server.on('close', () => void parser.close())
  return server
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  options: ServerOptions,
  parser: InformParser,
  subscriptionLimit: LoginRateLimit,
): Promise<void> {
  const url = requestUrl(request.url)
  const path = url.pathname
  if (path === '/healthz') return onlyGet(request, response, () => reply(response, 200, 'ok\n'))
  if (path === '/metrics') return onlyGet(request, response, () => serveMetrics(request, response, options))
  const subscription = subscriptionPath.exec(path)
  if (subscription) {
    return onlyGet(request, response, () =>
      serveSubscription(
        request,
        response,
        options,
        subscriptionLimit,
        subscription[1]!,
        url.searchParams.get('format'),
      ),
    )
  }
  const userPage = options.userPortal ? userPagePath.exec(path) : null
  if (userPage) {
    return onlyGet(request, response, async () => {
      if (await limited(request, response, options, subscriptionLimit)) return
      await options.userPortal!.page(request, response, safeDecode(userPage[1]!))
    })
  }
  if (!options.dashboard && options.userPortal?.assets.serve(request, response, path)) return
  const inform = informPath.exec(path)
  if (inform) return receiveInform(request, response, options, parser, inform[1]!, inform[2]!)
  const informLike = path === '/inform' || path.startsWith('/inform/')
  if (options.dashboard && !informLike) return options.dashboard(request, response)
  reply(response, 404, 'not found\n')
  // A panel whose inform URI lost its token (or gained a segment) posts here: as lost as any refused report.
  if (informLike && request.method === 'POST') {
    const size = declaredLength(request)
    options.log(
      `inform refused: path ${logName(redactedPath(request.url))}, status 404, ${size === null ? 'size unknown' : `${size} bytes`}: the path is not /inform/NODE/TOKEN`,
    )
  }
}

async function onlyGet(
  request: IncomingMessage,
  response: ServerResponse,
  serve: () => void | Promise<void>,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    reply(response, 405, 'method not allowed\n', {allow: 'GET, HEAD'})
    return
  }
  await serve()
}

async function serveMetrics(request: IncomingMessage, response: ServerResponse, options: ServerOptions): Promise<void> {
  if (options.metricsTokenHash !== null) {
    const bearer = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? ''
    if (!informTokenMatches(bearer, options.metricsTokenHash)) {
      reply(response, 401, 'unauthorized\n', {'www-authenticate': 'Bearer realm="sbq metrics"'})
      return
    }
  }
  reply(response, 200, renderMetrics(await collectMetrics(options.db, await options.context())), {
    'content-type': metricsContentType,
  })
}

/**
 * `/sub/<token>`: a user's subscription. An unknown token is a bare 404 (no hint of what exists); one address asking
 * too often gets 429 before any token is looked up, so tokens cannot be guessed at speed.
 */
async function serveSubscription(
  request: IncomingMessage,
  response: ServerResponse,
  options: ServerOptions,
  limit: LoginRateLimit,
  rawToken: string,
  format: string | null,
): Promise<void> {
  if (await limited(request, response, options, limit)) return
  const context = await options.context()
  const chosen = subscriptionFormat(format, request.headers['user-agent'] ?? '')
  if (chosen === undefined) {
    reply(response, 400, 'format is one of base64, clash, sing-box\n')
    return
  }
  const answer = await subscriptionReply(options.db, safeDecode(rawToken), chosen, context)
  if (answer === undefined) {
    reply(response, 404, 'not found\n')
    return
  }
  reply(response, 200, answer.body, {'content-type': answer.contentType, ...answer.headers})
}

/** Counts a request against its address's allowance; true (429 sent) when the address is over it. */
async function limited(
  request: IncomingMessage,
  response: ServerResponse,
  options: ServerOptions,
  limit: LoginRateLimit,
): Promise<boolean> {
  const {now} = await options.context()
  const wait = limit.begin(rateLimitKey(clientIp(request, options.trustProxy ?? false)), now)
  if (wait <= 0) return false
  reply(response, 429, 'too many requests\n', {'retry-after': String(Math.ceil(wait / 1000))})
  return true
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

async function receiveInform(
  request: IncomingMessage,
  response: ServerResponse,
  options: ServerOptions,
  parser: InformParser,
  rawNode: string,
  token: string,
): Promise<void> {
  if (request.method !== 'POST') {
    reply(response, 405, 'method not allowed\n', {allow: 'POST'})
    return
  }
  const nodeName = safeDecode(rawNode)
  const declared = declaredLength(request)
  const sender =
    nodeName === '' ? {node: undefined, authenticated: false} : await findInformSender(options.db, nodeName, token)
  if (!sender.authenticated) {
    // Answered before anything is counted, so how long the answer takes tells nobody whether the node exists.
    reply(response, 404, 'not found\n', {connection: 'close'})
    const reason = sender.node
      ? 'wrong token (an old inform URI in the panel? sbq node rotate-token prints a new one)'
      : 'no such node'
    await refuse(options, nodeName, sender.node, {status: 404, reason, bytes: declared})
    return
  }
  const node = sender.node!
  const refuseWith = async (
    status: number,
    text: string,
    reason: string,
    bytes: number | null,
    headers: Record<string, string> = {},
  ): Promise<void> => {
    reply(response, status, text, headers)
    await refuse(options, node.name, node, {status, reason, bytes})
  }
  const requestId = request.headers[requestIdHeader]
  if (requestId !== undefined && (Array.isArray(requestId) || !requestIdPattern.test(requestId))) {
    const reason = `${requestIdHeader} is not 1-128 printable characters`
    return refuseWith(400, `bad request: ${reason}\n`, reason, declared, {connection: 'close'})
  }
  let bytes = declared
  try {
    const read = await readBody(request, options.bodyLimit)
    bytes = read.bytes
    if (read.kind === 'aborted')
      return await refuse(options, node.name, node, {
        status: null,
        reason: 'the sender closed the connection before the end of the report',
        bytes,
      })
    if (read.kind === 'too-large') {
      const reason = `over the limit of ${options.bodyLimit} bytes (sbq config set inform-body-limit)`
      return await refuseWith(
        413,
        `payload too large: the limit is ${options.bodyLimit} bytes (sbq config set inform-body-limit)\n`,
        reason,
        bytes,
        {connection: 'close'},
      )
    }
    let payload
    try {
      payload = await parser.parse(read.body)
    } catch (error) {
      if (!(error instanceof InformPayloadError)) throw error
      return await refuseWith(400, `bad request: ${error.message}\n`, error.message, bytes)
    }
    const outcome = await recordInform(options.db, node, payload, requestId ?? null, await options.context())
    if (!outcome.duplicate && outcome.record.refusedNames > 0) {
      options.log(
        `inform partly refused: node ${logName(node.name)}, ${bytes} bytes: ${outcome.record.refusedNames} new unmanaged name(s) not recorded, over unmanaged-names-limit (sbq config set unmanaged-names-limit)`,
      )
    }
    const answer = outcome.duplicate
      ? {ok: true, duplicate: true}
      : {
          ok: true,
          duplicate: false,
          users: outcome.record.users,
          unmanaged: outcome.record.unmanaged,
          refusedNames: outcome.record.refusedNames,
        }
    reply(response, 200, `${JSON.stringify(answer)}\n`, {'content-type': 'application/json'})
  } catch (error) {
    if (response.headersSent) response.destroy()
    else reply(response, 500, 'internal error\n')
    await refuse(options, node.name, node, {
      status: 500,
      reason: `sbq failed to record it: ${(error as Error).message}`,
      bytes,
    })
  }
}

/**
 * Logs a refused report (3x-ui never reads the status, so this line and the node's count are all that is left of it)
 * and counts it on the node when the node exists.
 */
async function refuse(
  options: ServerOptions,
  nodeName: string,
  node: NodeRow | undefined,
  refusal: Pick<Refusal, 'status' | 'reason' | 'bytes'>,
): Promise<void> {
  const status = refusal.status === null ? 'no answer' : `status ${refusal.status}`
  const size = refusal.bytes === null ? 'size unknown' : `${refusal.bytes} bytes`
  options.log(
    `inform refused: node ${logName(nodeName)}${node ? '' : ' (unknown)'}, ${status}, ${size}: ${refusal.reason}`,
  )
  if (!node) return
  try {
    await recordRefusal(options.db, node.id, {...refusal, at: (await options.context()).now, reports: 1, names: 0})
  } catch (error) {
    options.log(`error: could not count the refused report on node ${logName(nodeName)}: ${(error as Error).message}`)
  }
}

/** A node name from a request path, quoted and escaped so that no sender can forge or break log lines. */
function logName(name: string): string {
  return JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name)
}

function declaredLength(request: IncomingMessage): number | null {
  const header = request.headers['content-length']
  return header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : null
}

type ReadBody =
  | {kind: 'complete'; body: Buffer; bytes: number}
  | {kind: 'too-large'; bytes: number}
  | {kind: 'aborted'; bytes: number}

/** The body, or that it is over the limit (read and dropped up to a bound, so the sender sees the 413), or cut off. */
function readBody(request: IncomingMessage, limit: number): Promise<ReadBody> {
  const declared = declaredLength(request)
  if (declared !== null && declared > limit + drainAllowance)
    return Promise.resolve({kind: 'too-large', bytes: declared})
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
      else if (size > limit + drainAllowance) resolve({kind: 'too-large', bytes: declared ?? size})
    })
    request.on('end', () =>
      resolve(
        size > limit
          ? {kind: 'too-large', bytes: declared ?? size}
          : {kind: 'complete', body: Buffer.concat(chunks, size), bytes: size},
      ),
    )
    // After 'end' these change nothing: a promise settles once.
    request.on('error', () => resolve({kind: 'aborted', bytes: size}))
    request.on('close', () => resolve({kind: 'aborted', bytes: size}))
  })
}

function reply(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, {'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers})
  response.end(response.req.method === 'HEAD' ? undefined : body)
}

/** A request path for a log line: no inform or subscription token reaches a log. */
function redactedPath(url: string | undefined): string {
  // Routing reads `//u/x` as `/u/x`: so does this.
  return (url ?? '/')
    .replace(/^[/\\]+/, '/')
    .replace(/^(\/inform\/[^/]+\/)[^/?]+/, '$1…')
    .replace(/^(\/(?:sub|u)\/)[^/?]+/, '$1…')
}
