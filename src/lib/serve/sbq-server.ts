import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'

import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {InformPayloadError, parseInformPayload} from '../inform/inform-payload.js'
import {informTokenMatches} from '../inform/inform-token.js'
import {authenticateInform, recordInform} from '../inform/record-inform.js'
import {requestIdHeader} from '../inform/outbox.js'
import {metricsContentType, renderMetrics} from '../output/serve-metrics.js'
import {requestUrl} from '../web/web-request.js'
import {collectMetrics} from './metrics.js'

export interface ServerOptions {
  db: Db
  /** The clock and zone for each request (SBQ_NOW in tests). */
  context: () => Promise<Context>
  /** Largest inform body, bytes. */
  bodyLimit: number
  /** sha256 of the /metrics bearer token; null serves /metrics to anyone. */
  metricsTokenHash: string | null
  /** One line for the operator: failures that are sbq's, never the sender's. */
  log: (line: string) => void
  /** The web dashboard, which answers every other path; null when it is off (no admin password). */
  dashboard?: ((request: IncomingMessage, response: ServerResponse) => Promise<void>) | null
}

/** What a refused body costs at most to read before the connection is cut: enough for a client to see the 413. */
const drainAllowance = 16 * 1024 * 1024
const informPath = /^\/inform\/([^/]+)\/([^/]+)\/?$/
const requestIdPattern = /^[\x21-\x7e]{1,128}$/

/**
 * `sbq serve`'s HTTP server: 3x-ui reports (and pushes from other sbq) on /inform/<node>/<token>, /healthz and
 * /metrics. Every inform failure of the sender's making is answered before anything is written; a wrong node and a
 * wrong token are the same 404, so the server tells nobody which nodes exist.
 */
export function createSbqServer(options: ServerOptions): Server {
  const server = createServer((request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      options.log(`error: ${request.method} ${redactedPath(request.url)} failed: ${(error as Error).message}`)
      if (!response.headersSent) reply(response, 500, 'internal error\n')
      else response.destroy()
    })
  })
  // Bounds a sender that trickles: 3x-ui gives up after 3 s anyway.
  server.requestTimeout = 30_000
  server.headersTimeout = 10_000
  return server
}

async function handle(request: IncomingMessage, response: ServerResponse, options: ServerOptions): Promise<void> {
  const path = requestUrl(request.url).pathname
  if (path === '/healthz') return onlyGet(request, response, () => reply(response, 200, 'ok\n'))
  if (path === '/metrics') return onlyGet(request, response, () => serveMetrics(request, response, options))
  const inform = informPath.exec(path)
  if (inform) return receiveInform(request, response, options, inform[1]!, inform[2]!)
  if (options.dashboard && path !== '/inform' && !path.startsWith('/inform/')) return options.dashboard(request, response)
  reply(response, 404, 'not found\n')
}

async function onlyGet(request: IncomingMessage, response: ServerResponse, serve: () => void | Promise<void>): Promise<void> {
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
  reply(response, 200, renderMetrics(await collectMetrics(options.db, await options.context())), {'content-type': metricsContentType})
}

async function receiveInform(request: IncomingMessage, response: ServerResponse, options: ServerOptions, rawNode: string, token: string): Promise<void> {
  if (request.method !== 'POST') {
    reply(response, 405, 'method not allowed\n', {allow: 'POST'})
    return
  }
  let nodeName: string
  try {
    nodeName = decodeURIComponent(rawNode)
  } catch {
    nodeName = ''
  }
  const node = nodeName === '' ? null : await authenticateInform(options.db, nodeName, token)
  if (node === null) {
    reply(response, 404, 'not found\n', {connection: 'close'})
    return
  }
  const requestId = request.headers[requestIdHeader]
  if (requestId !== undefined && (Array.isArray(requestId) || !requestIdPattern.test(requestId))) {
    reply(response, 400, `bad request: ${requestIdHeader} is not 1-128 printable characters\n`, {connection: 'close'})
    return
  }
  const body = await readBody(request, options.bodyLimit)
  if (body === null) {
    reply(response, 413, `payload too large: the limit is ${options.bodyLimit} bytes (sbq config set inform-body-limit)\n`, {connection: 'close'})
    return
  }
  let payload
  try {
    payload = parseInformPayload(body)
  } catch (error) {
    if (!(error instanceof InformPayloadError)) throw error
    reply(response, 400, `bad request: ${error.message}\n`)
    return
  }
  const outcome = await recordInform(options.db, node, payload, requestId ?? null, await options.context())
  const answer = outcome.duplicate ? {ok: true, duplicate: true} : {ok: true, duplicate: false, users: outcome.record.users, unmanaged: outcome.record.unmanaged}
  reply(response, 200, `${JSON.stringify(answer)}\n`, {'content-type': 'application/json'})
}

/** The body as text, or null when it is over the limit (read and dropped up to a bound, so the sender sees the 413). */
function readBody(request: IncomingMessage, limit: number): Promise<string | null> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN)
  if (declared > limit + drainAllowance) return Promise.resolve(null)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
      else if (size > limit + drainAllowance) resolve(null)
    })
    request.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

function reply(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, {'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers})
  response.end(response.req.method === 'HEAD' ? undefined : body)
}

/** A request path for a log line: the inform token never reaches a log. */
function redactedPath(url: string | undefined): string {
  return (url ?? '/').replace(/^(\/inform\/[^/]+\/)[^/?]+/, '$1…')
}
