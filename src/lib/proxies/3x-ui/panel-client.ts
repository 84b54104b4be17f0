/**
 * The 3x-ui panel's HTTP API, for what sbq needs from it: switching a client on or off by email, and the inbounds a
 * client is on (for share links). Two generations, told apart at login by GET /csrf-token (a 404 on v2):
 *
 * - v2.4 to v2.9: POST /login (form username/password, session cookie), GET /panel/api/inbounds/list,
 *   POST /panel/api/inbounds/updateClient/:clientId with the inbound id and a settings JSON holding the whole client.
 * - v3: GET /csrf-token gives the session's token, which POST /login and every POST under /panel/api must carry in
 *   X-CSRF-Token (internal/web/session/csrf.go, middleware/security.go). A client is one record by email that is on
 *   or off on all its inbounds at once: POST /panel/api/clients/bulkEnable and bulkDisable take {emails} (v3.5+);
 *   v3.1 to v3.4 only have POST /panel/api/clients/update/:email with the whole client; v3.0 still has updateClient.
 *   Which of those a panel has is learned from its 404s once per run.
 */
import {Agent, request} from 'undici'

import {invalidInput, unreachable} from '../../errors.js'

export interface PanelCredentials {
  url: string
  user: string
  password: string
}

/** Which API the panel speaks: v2 (no CSRF, updateClient by inbound) or v3 (CSRF, clients by email). */
export type PanelGeneration = 'v2' | 'v3'

export interface PanelClient {
  readonly generation: PanelGeneration
  /** Client emails per inbound id, as the panel has them. */
  listClients(): Promise<PanelClientEntry[]>
  /**
   * Sets `enable` on the clients with these emails, each as its function says for the client's inbound (by tag),
   * listing the inbounds once; clients already so are left alone.
   */
  setEnabled(wanted: ReadonlyMap<string, (inboundTag: string | undefined) => boolean>): Promise<SwitchOutcome>
  /**
   * The inbounds a client (by email) is on, each as the Xray inbound object 3x-ui writes into Xray's config
   * (database/model/model.go GenXrayInboundConfig), with the client as the panel has it.
   */
  clientInbounds(email: string): Promise<Array<{inbound: XrayInboundObject; client: ClientSettings}>>
  close(): void
}

export type XrayInboundObject = {tag: string; listen?: string; port: number; protocol: string} & Record<string, unknown>

export interface SwitchOutcome {
  switched: string[]
  /** Emails the panel has no client for. */
  missing: Set<string>
  /**
   * v3 clients kept off although some of their inbounds allow them, with the inbounds that do not: v3 switches a
   * client on all its inbounds at once, and a choice is never widened.
   */
  keptOff: Array<{email: string; tags: string[]}>
}

export interface PanelClientEntry {
  inboundId: number
  protocol: string
  email: string
  enable: boolean
}

interface PanelReply {
  success: boolean
  msg: string
  obj: unknown
}

/** An inbound as GET /panel/api/inbounds/list gives it (database/model/model.go Inbound): settings and streams as JSON text. */
interface PanelInbound {
  id: number
  tag?: string
  protocol: string
  settings: string
  listen?: string
  port?: number
  streamSettings?: string
}

export type ClientSettings = Record<string, unknown> & {email?: unknown; enable?: unknown}

/**
 * How a v3 panel switches clients, newest first: one call per state (v3.5+), one per client by email (v3.1 to v3.4),
 * one per client by inbound (v3.0, as v2).
 */
type V3SwitchRoute = 'bulk' | 'by-email' | 'by-inbound'
const v3RoutesNewestFirst: readonly V3SwitchRoute[] = ['bulk', 'by-email', 'by-inbound']

/**
 * The v3 switch route each panel (by base URL) last took, for the rest of this run (a long `sbq serve` included):
 * learning it costs a 404 per newer route the panel lacks. It is tried first, then the others newest first, so a
 * panel upgraded under a running sbq is learned afresh.
 */
const v3SwitchRoutes = new Map<string, V3SwitchRoute>()

const timeoutMs = 10_000
const hint = "check --panel-url (with the panel's web base path), the panel user and password"

/** Logs in once; the session cookie then goes with every call. Throws exit 4 when the panel is down or refuses. */
export async function openPanel(credentials: PanelCredentials): Promise<PanelClient> {
  const base = credentials.url.replace(/\/+$/, '')
  const agent = new Agent({connect: {timeout: timeoutMs}})
  const where = `3x-ui panel "${base}"`
  let cookie = ''
  let csrfToken: string | null = null

  /** One request; the reply's status and text, or exit 4 when nothing answers. */
  async function send(
    method: 'GET' | 'POST',
    path: string,
    body?: {form: Record<string, string>} | {json: unknown},
  ): Promise<{status: number; text: string}> {
    let reply
    try {
      reply = await request(`${base}${path}`, {
        method,
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          accept: 'application/json',
          ...(cookie ? {cookie} : {}),
          ...(csrfToken !== null && method === 'POST' ? {'x-csrf-token': csrfToken} : {}),
          ...(body === undefined
            ? {}
            : {'content-type': 'form' in body ? 'application/x-www-form-urlencoded' : 'application/json'}),
        },
        body:
          body === undefined
            ? null
            : 'form' in body
              ? new URLSearchParams(body.form).toString()
              : JSON.stringify(body.json),
      })
    } catch (error) {
      throw unreachable(
        'PANEL_UNREACHABLE',
        `${where} cannot be reached: ${(error as {code?: string}).code ?? (error as Error).name}`,
        hint,
        error,
      )
    }
    // The session lives in the cookie itself (gin's cookie store), so each save sends a new one.
    const setCookies = reply.headers['set-cookie']
    if (setCookies !== undefined)
      cookie = (Array.isArray(setCookies) ? setCookies : [setCookies]).map((line) => line.split(';')[0]).join('; ')
    return {status: reply.statusCode, text: await reply.body.text()}
  }

  /** A client's id or email in a path is a credential or a user name, not something for a log line. */
  const shown = (path: string) => path.replace(/\/(updateClient|update)\/.*/, '/$1/…')

  function parse(path: string, text: string): PanelReply {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw unreachable(
        'PANEL_NOT_JSON',
        `${where} did not answer ${shown(path)} with JSON (a login page: wrong web base path or session)`,
        hint,
      )
    }
    const answer = parsed as Partial<PanelReply>
    if (typeof answer !== 'object' || answer === null || typeof answer.success !== 'boolean')
      throw unreachable('PANEL_NOT_JSON', `${where} answered ${shown(path)} with an unknown shape`, hint)
    return {success: answer.success, msg: String(answer.msg ?? ''), obj: answer.obj}
  }

  async function call(
    method: 'GET' | 'POST',
    path: string,
    body?: {form: Record<string, string>} | {json: unknown},
  ): Promise<PanelReply> {
    const reply = await callUnlessMissing(method, path, body)
    if (reply === null) throw refusedHttp(method, path, 404)
    return reply
  }

  /** As call, but null when the panel has no such route (HTTP 404): an older or newer panel. */
  async function callUnlessMissing(
    method: 'GET' | 'POST',
    path: string,
    body?: {form: Record<string, string>} | {json: unknown},
  ): Promise<PanelReply | null> {
    const {status, text} = await send(method, path, body)
    if (status === 404) return null
    if (status !== 200) throw refusedHttp(method, path, status)
    return parse(path, text)
  }

  function refusedHttp(method: string, path: string, status: number) {
    return unreachable(
      'PANEL_REFUSED',
      `${where} answered HTTP ${status} to ${method} ${shown(path)}${status === 403 && csrfToken !== null ? ' (its CSRF check)' : ''}`,
      hint,
    )
  }

  async function inbounds(): Promise<PanelInbound[]> {
    const reply = await call('GET', '/panel/api/inbounds/list')
    if (!reply.success || !Array.isArray(reply.obj))
      throw unreachable('PANEL_REFUSED', `${where} did not list its inbounds: ${reply.msg}`, hint)
    return (reply.obj as PanelInbound[]).filter(
      (inbound) => typeof inbound?.id === 'number' && typeof inbound.settings === 'string',
    )
  }

  /** v3 gives a token at GET /csrf-token (and the session cookie it lives in); v2 has no such route. */
  async function logIn(): Promise<PanelGeneration> {
    const probe = await send('GET', '/csrf-token')
    const token = probe.status === 200 ? tokenIn(probe.text) : null
    csrfToken = token
    const login = await send('POST', '/login', {form: {username: credentials.user, password: credentials.password}})
    if (token === null && (login.status !== 200 || !isReply(login.text))) {
      const tried = `GET /csrf-token: HTTP ${probe.status}${probe.status === 200 ? ' without a token' : ''}`
      throw unreachable(
        'PANEL_UNKNOWN_API',
        `${where} answered neither as 3x-ui v3 (${tried}) nor as v2 (POST /login: HTTP ${login.status}${login.status === 200 ? ', not JSON' : ''})`,
        "check --panel-url: it must end in the panel's web base path (Panel Settings → General); sbq speaks 3x-ui v2.4 to v3",
      )
    }
    if (login.status !== 200) throw refusedHttp('POST', '/login', login.status)
    const reply = parse('/login', login.text)
    if (!reply.success || cookie === '')
      throw unreachable(
        'PANEL_LOGIN_FAILED',
        `${where} refused the login of "${credentials.user}": ${reply.msg || 'no session'}`,
        hint,
      )
    return token === null ? 'v2' : 'v3'
  }

  let generation: PanelGeneration
  try {
    generation = await logIn()
  } catch (error) {
    await agent.close()
    throw error
  }

  /** v2 and v3.0: the whole client back to its inbound, found by its protocol's key. */
  async function switchByInbound(inbound: PanelInbound, client: ClientSettings, enable: boolean): Promise<boolean> {
    const email = String(client.email)
    const clientId = clientIdOf(inbound.protocol, client)
    if (clientId === '')
      throw invalidInput(
        'PANEL_CLIENT_WITHOUT_ID',
        `3x-ui client "${email}" in inbound ${inbound.id} has no id`,
        'fix the client in the panel',
      )
    // The panel replaces the whole client with what it is sent, so every other field goes back as it was.
    const reply = await callUnlessMissing('POST', `/panel/api/inbounds/updateClient/${encodeURIComponent(clientId)}`, {
      json: {id: inbound.id, settings: JSON.stringify({clients: [{...client, enable}]})},
    })
    if (reply === null) return false
    if (!reply.success) throw notSwitched(email, enable, reply.msg)
    return true
  }

  function notSwitched(email: string, enable: boolean, why: string) {
    return unreachable(
      'PANEL_REFUSED',
      `${where} did not ${enable ? 'enable' : 'disable'} client "${email}": ${why}`,
      "see the panel's log",
    )
  }

  /** v3: each client once, by email; the route is the newest this panel has. */
  async function switchV3(
    changes: Array<{email: string; client: ClientSettings; inbound: PanelInbound; enable: boolean}>,
  ) {
    const known = v3SwitchRoutes.get(base)
    const order = known === undefined ? v3RoutesNewestFirst : [known, ...v3RoutesNewestFirst.filter((r) => r !== known)]
    for (const route of order) {
      if (await switchOnRoute(route, changes)) {
        v3SwitchRoutes.set(base, route)
        return
      }
    }
    throw unreachable(
      'PANEL_UNKNOWN_API',
      `${where} speaks 3x-ui v3 but answered HTTP 404 to every client route sbq knows (POST /panel/api/clients/bulkEnable, /panel/api/clients/update/…, /panel/api/inbounds/updateClient/…)`,
      'update sbq, or switch the clients in the panel',
    )
  }

  /** False when the panel lacks the route (before any change was made on it). */
  async function switchOnRoute(
    route: V3SwitchRoute,
    changes: Array<{email: string; client: ClientSettings; inbound: PanelInbound; enable: boolean}>,
  ): Promise<boolean> {
    if (route === 'bulk') {
      for (const enable of [false, true]) {
        const emails = changes.filter((change) => change.enable === enable).map((change) => change.email)
        if (emails.length === 0) continue
        const reply = await callUnlessMissing('POST', `/panel/api/clients/${enable ? 'bulkEnable' : 'bulkDisable'}`, {
          json: {emails},
        })
        if (reply === null) return false
        if (!reply.success) throw notSwitched(emails[0]!, enable, reply.msg)
        // BulkSetEnableResult: the emails it could not switch, each with the reason.
        const [skipped] = ((reply.obj as {skipped?: Array<{email?: unknown; reason?: unknown}>} | null)?.skipped ??
          []) as Array<{email?: unknown; reason?: unknown}>
        if (skipped !== undefined) throw notSwitched(String(skipped.email), enable, String(skipped.reason))
      }
      return true
    }
    for (const {email, client, inbound, enable} of changes) {
      if (route === 'by-inbound') {
        if (!(await switchByInbound(inbound, client, enable))) return false
        continue
      }
      // UpdateByEmail replaces the client on every inbound it is on, so every other field goes back as it was.
      const reply = await callUnlessMissing('POST', `/panel/api/clients/update/${encodeURIComponent(email)}`, {
        json: {...client, enable},
      })
      if (reply === null) return false
      if (!reply.success) throw notSwitched(email, enable, reply.msg)
    }
    return true
  }

  return {
    generation,
    async listClients() {
      return (await inbounds()).flatMap((inbound) =>
        clientsOf(inbound).map((client) => ({
          inboundId: inbound.id,
          protocol: inbound.protocol,
          email: String(client.email),
          enable: client.enable !== false,
        })),
      )
    },
    async setEnabled(wanted) {
      const outcome: SwitchOutcome = {switched: [], missing: new Set(wanted.keys()), keptOff: []}
      const found = new Map<string, Array<{inbound: PanelInbound; client: ClientSettings}>>()
      for (const inbound of await inbounds())
        for (const client of clientsOf(inbound)) {
          const email = String(client.email)
          if (!wanted.has(email)) continue
          outcome.missing.delete(email)
          found.set(email, [...(found.get(email) ?? []), {inbound, client}])
        }
      const tagOf = (inbound: PanelInbound) => (typeof inbound.tag === 'string' ? inbound.tag : undefined)
      if (generation === 'v2') {
        // A v2 email is on one inbound (the panel refuses duplicates), switched there.
        for (const [email, places] of found)
          for (const {inbound, client} of places) {
            const enable = wanted.get(email)!(tagOf(inbound))
            if ((client.enable !== false) === enable) continue
            if (!(await switchByInbound(inbound, client, enable)))
              throw refusedHttp('POST', '/panel/api/inbounds/updateClient/…', 404)
            outcome.switched.push(email)
          }
        return outcome
      }
      const changes: Array<{email: string; client: ClientSettings; inbound: PanelInbound; enable: boolean}> = []
      for (const [email, places] of found) {
        const enableOn = wanted.get(email)!
        const refused = places.map(({inbound}) => tagOf(inbound)).filter((tag) => !enableOn(tag))
        const enable = refused.length === 0
        if (refused.length > 0 && refused.length < places.length)
          outcome.keptOff.push({email, tags: refused.map((tag) => tag ?? '(untagged)')})
        if (places.every(({client}) => (client.enable !== false) === enable)) continue
        changes.push({email, client: places[0]!.client, inbound: places[0]!.inbound, enable})
      }
      if (changes.length > 0) await switchV3(changes)
      outcome.switched.push(...changes.map((change) => change.email))
      return outcome
    },
    async clientInbounds(email) {
      const found: Array<{inbound: XrayInboundObject; client: ClientSettings}> = []
      for (const inbound of await inbounds()) {
        const client = clientsOf(inbound).find((candidate) => candidate.email === email)
        if (client === undefined || typeof inbound.tag !== 'string' || typeof inbound.port !== 'number') continue
        found.push({
          inbound: {
            tag: inbound.tag,
            ...(inbound.listen ? {listen: inbound.listen} : {}),
            port: inbound.port,
            protocol: inbound.protocol,
            settings: parseObject(inbound.settings),
            streamSettings: parseObject(inbound.streamSettings ?? ''),
          },
          client,
        })
      }
      return found
    },
    close() {
      void agent.close()
    },
  }
}

/** The token of GET /csrf-token's {"success":true,"obj":"…"}, or null for anything else. */
function tokenIn(text: string): string | null {
  try {
    const reply = JSON.parse(text) as {success?: unknown; obj?: unknown}
    return reply.success === true && typeof reply.obj === 'string' && reply.obj !== '' ? reply.obj : null
  } catch {
    return null
  }
}

function isReply(text: string): boolean {
  try {
    const reply = JSON.parse(text) as {success?: unknown}
    return typeof reply === 'object' && reply !== null && typeof reply.success === 'boolean'
  } catch {
    return false
  }
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {}
  } catch {
    return {}
  }
}

function clientsOf(inbound: PanelInbound): ClientSettings[] {
  try {
    const settings = JSON.parse(inbound.settings) as {clients?: unknown}
    return Array.isArray(settings.clients)
      ? (settings.clients as ClientSettings[]).filter((client) => typeof client?.email === 'string')
      : []
  } catch {
    return []
  }
}

/** How the panel names a client in updateClient's path: by the credential its protocol keys clients on. */
function clientIdOf(protocol: string, client: ClientSettings): string {
  const key =
    protocol === 'trojan'
      ? 'password'
      : protocol === 'shadowsocks'
        ? 'email'
        : protocol === 'hysteria' || protocol === 'hysteria2'
          ? 'auth'
          : 'id'
  const value = client[key]
  return typeof value === 'string' ? value : ''
}
