/**
 * The 3x-ui panel's HTTP API, for what sbq needs from it: switching a client on or off by email, and the inbounds a
 * client is on (for share links). Routes as
 * in 3x-ui v2.4.0 through v2.9.4: POST /login (form username/password, session cookie), GET /panel/api/inbounds/list,
 * POST /panel/api/inbounds/updateClient/:clientId with the inbound id and a settings JSON holding the whole client.
 */
import {Agent, request} from 'undici'

import {invalidInput, unreachable} from '../../errors.js'

export interface PanelCredentials {
  url: string
  user: string
  password: string
}

export interface PanelClient {
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

const timeoutMs = 10_000
const hint = "check --panel-url (with the panel's web base path), the panel user and password"

/** Logs in once; the session cookie then goes with every call. Throws exit 4 when the panel is down or refuses. */
export async function openPanel(credentials: PanelCredentials): Promise<PanelClient> {
  const base = credentials.url.replace(/\/+$/, '')
  const agent = new Agent({connect: {timeout: timeoutMs}})
  const where = `3x-ui panel "${base}"`
  let cookie = ''

  async function call(
    method: 'GET' | 'POST',
    path: string,
    body?: {form: Record<string, string>} | {json: unknown},
  ): Promise<PanelReply> {
    let reply
    try {
      reply = await request(`${base}${path}`, {
        method,
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          accept: 'application/json',
          ...(cookie ? {cookie} : {}),
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
    const setCookies = reply.headers['set-cookie']
    if (setCookies !== undefined)
      cookie = (Array.isArray(setCookies) ? setCookies : [setCookies]).map((line) => line.split(';')[0]).join('; ')
    const text = await reply.body.text()
    if (reply.statusCode !== 200)
      throw unreachable(
        'PANEL_REFUSED',
        `${where} answered HTTP ${reply.statusCode} to ${method} ${path.replace(/\/updateClient\/.*/, '/updateClient/…')}`,
        hint,
      )
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw unreachable(
        'PANEL_NOT_JSON',
        `${where} did not answer ${path} with JSON (a login page: wrong web base path or session)`,
        hint,
      )
    }
    const answer = parsed as Partial<PanelReply>
    if (typeof answer !== 'object' || answer === null || typeof answer.success !== 'boolean')
      throw unreachable('PANEL_NOT_JSON', `${where} answered ${path} with an unknown shape`, hint)
    return {success: answer.success, msg: String(answer.msg ?? ''), obj: answer.obj}
  }

  async function inbounds(): Promise<PanelInbound[]> {
    const reply = await call('GET', '/panel/api/inbounds/list')
    if (!reply.success || !Array.isArray(reply.obj))
      throw unreachable('PANEL_REFUSED', `${where} did not list its inbounds: ${reply.msg}`, hint)
    return (reply.obj as PanelInbound[]).filter(
      (inbound) => typeof inbound?.id === 'number' && typeof inbound.settings === 'string',
    )
  }

  try {
    const login = await call('POST', '/login', {form: {username: credentials.user, password: credentials.password}})
    if (!login.success || cookie === '')
      throw unreachable(
        'PANEL_LOGIN_FAILED',
        `${where} refused the login of "${credentials.user}": ${login.msg || 'no session'}`,
        hint,
      )
  } catch (error) {
    await agent.close()
    throw error
  }

  return {
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
      const outcome: SwitchOutcome = {switched: [], missing: new Set(wanted.keys())}
      for (const inbound of await inbounds()) {
        for (const client of clientsOf(inbound)) {
          const email = String(client.email)
          const enableOn = wanted.get(email)
          if (enableOn === undefined) continue
          const enable = enableOn(typeof inbound.tag === 'string' ? inbound.tag : undefined)
          outcome.missing.delete(email)
          if ((client.enable !== false) === enable) continue
          const clientId = clientIdOf(inbound.protocol, client)
          if (clientId === '')
            throw invalidInput(
              'PANEL_CLIENT_WITHOUT_ID',
              `3x-ui client "${email}" in inbound ${inbound.id} has no id`,
              'fix the client in the panel',
            )
          // The panel replaces the whole client with what it is sent, so every other field goes back as it was.
          const reply = await call('POST', `/panel/api/inbounds/updateClient/${encodeURIComponent(clientId)}`, {
            json: {id: inbound.id, settings: JSON.stringify({clients: [{...client, enable}]})},
          })
          if (!reply.success)
            throw unreachable(
              'PANEL_REFUSED',
              `${where} did not ${enable ? 'enable' : 'disable'} client "${email}": ${reply.msg}`,
              "see the panel's log",
            )
          outcome.switched.push(email)
        }
      }
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
