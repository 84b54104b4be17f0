import {randomUUID} from 'node:crypto'
import {createServer, type IncomingMessage, type Server} from 'node:http'

interface StubInbound {
  id: number
  /** database/model/model.go Inbound.Tag (`json:"tag"`), unique per panel; the panel names new ones inbound-PORT. */
  tag: string
  port: number
  protocol: string
  clients: Array<Record<string, unknown>>
  /** The rest of the inbound's settings JSON (a shadowsocks inbound's method and key). */
  settings?: Record<string, unknown>
  /** streamSettings as 3x-ui stores it (JSON text in the list), in Xray's config format. */
  streamSettings: Record<string, unknown>
}

/** A REALITY private key as 3x-ui keeps it (the one in test/fixtures/xray-config.json). */
export const stubRealityPrivateKey = 'UuMBgl7MXTPx9inmQp2UC7Jcnwc6XYbwDNebonM-FCc'

/**
 * Which 3x-ui release the stub answers as. Each follows github:MHSanaei/3x-ui at the tag's commit:
 *
 * - '2.9' (v2.9.4, 50603fd43005e45f0cf56585f67708b9c5fb050c; the same routes since v2.4): web/controller/index.go
 *   POST /login takes the form and saves the session; web/controller/api.go checkAPIAuth answers 404 without one;
 *   web/controller/inbound.go updateInboundClient; web/web.go NoRoute answers 404 with no body.
 * - '3.0' (v3.0.0, 6efc4b06656f19f411e93992d45109af4c547af8): CSRF as below, clients still by updateClient.
 * - '3.4' (v3.4.0, 3fa4eddae3cccc59024bd57fc0e192bc96246fef): updateClient gone; POST /panel/api/clients/update/:email.
 * - '3.6' (v3.6.0, c377dca27c23549cdf84e0ffd2d287a16bee577c, unchanged at 02002dc1c3048d8ab70478d7bb93157159462bb6):
 *   internal/web/controller/client.go adds bulkEnable and bulkDisable, {emails} in, BulkSetEnableResult
 *   {changed, skipped[{email, reason}]} out (internal/web/service/client_bulk.go BulkSetEnable: the client is switched
 *   on every inbound it is attached to, `updated_at` set in each inbound's settings).
 *
 * v3 CSRF (internal/web/session/csrf.go, internal/web/middleware/security.go, internal/web/controller/index.go):
 * GET /csrf-token keeps a token in the session and answers {"success":true,"obj":TOKEN}; POST /login and every POST
 * under /panel/api answer 403 with no body unless X-CSRF-Token (or the form field _csrf) equals it. The session is a
 * cookie store (internal/web/web.go): each save sends a new `3x-ui` cookie, and an older cookie still holds the
 * older state (a cookie from before the login is not logged in).
 */
export type StubPanelVersion = '2.9' | '3.0' | '3.4' | '3.6'

interface StubSession {
  csrf?: string
  loggedIn?: boolean
}

/**
 * A 3x-ui panel under a web base path, as the release above routes it: the client routes it has, its login, a 404
 * for the API without a session and for every route it lacks (the v2 updateClient on v3.4+ included).
 */
export class StubPanel {
  readonly server: Server
  readonly calls: string[] = []
  readonly inbounds: StubInbound[] = [
    {
      id: 1,
      tag: 'inbound-443',
      port: 443,
      protocol: 'vless',
      streamSettings: {
        network: 'tcp',
        security: 'reality',
        realitySettings: {
          show: false,
          dest: 'www.example.com:443',
          serverNames: ['www.example.com'],
          privateKey: stubRealityPrivateKey,
          shortIds: ['0123456789abcdef'],
          settings: {fingerprint: 'chrome'},
        },
        tcpSettings: {header: {type: 'none'}},
      },
      clients: [
        {id: randomUUID(), email: 'alice', enable: true, flow: 'xtls-rprx-vision', limitIp: 2, totalGB: 0, subId: 'a1'},
        {id: randomUUID(), email: 'guest', enable: true},
      ],
    },
    {
      id: 2,
      tag: 'inbound-8443',
      port: 8443,
      protocol: 'trojan',
      clients: [{password: 'pw-bob', email: 'bob', enable: true, expiryTime: 1735689600000}],
      streamSettings: {network: 'tcp', security: 'tls', tlsSettings: {serverName: 'vpn.example.com', alpn: ['h2']}},
    },
    {
      id: 3,
      tag: 'inbound-8388',
      port: 8388,
      protocol: 'shadowsocks',
      clients: [{method: '', password: 'k', email: 'carol', enable: false}],
      settings: {method: '2022-blake3-aes-128-gcm', password: 'mAWUuVuxNH8TDRPDbcHdcA==', network: 'tcp,udp'},
      streamSettings: {network: 'tcp', security: 'none'},
    },
  ]
  url = ''
  private readonly sessions = new Map<string, StubSession>()

  constructor(
    private readonly basePath: string,
    readonly version: StubPanelVersion = '2.9',
  ) {
    this.server = createServer((request, response) => {
      void this.handle(request).then(([status, body, headers]) => {
        response.writeHead(status, {...(body === '' ? {} : {'content-type': 'application/json'}), ...headers})
        response.end(body)
      })
    })
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as {port: number}).port}${this.basePath}`
  }

  client(email: string): Record<string, unknown> | undefined {
    return this.inbounds.flatMap((inbound) => inbound.clients).find((client) => client.email === email)
  }

  /** Every entry of a client by email: on v3 one client may be attached to several inbounds. */
  entries(email: string): Array<Record<string, unknown>> {
    return this.inbounds.flatMap((inbound) => inbound.clients).filter((client) => client.email === email)
  }

  /** The API calls (not the login) made since `from`, e.g. `panel.calls.length` before a command. */
  apiCalls(from = 0): string[] {
    return this.calls.slice(from).filter((call) => call.includes(' /panel/api/'))
  }

  private get v3(): boolean {
    return this.version !== '2.9'
  }

  /** Saves a session as gin's cookie store does: its whole state in a new cookie value. */
  private save(state: StubSession): Record<string, string> {
    const value = randomUUID()
    this.sessions.set(value, {...state})
    return {'set-cookie': `3x-ui=${value}; Path=${this.basePath || '/'}; HttpOnly; SameSite=Lax`}
  }

  private async handle(request: IncomingMessage): Promise<[number, string, Record<string, string>?]> {
    const body = await new Promise<string>((resolve) => {
      let text = ''
      request.on('data', (chunk: Buffer) => (text += chunk.toString()))
      request.on('end', () => resolve(text))
    })
    const path = (request.url ?? '').slice(this.basePath.length)
    const route = path.split('?')[0]!
    this.calls.push(`${request.method} ${path}`)
    const ok = (obj: unknown = null, msg = '') => JSON.stringify({success: true, msg, obj})
    const failed = (msg: string) => JSON.stringify({success: false, msg, obj: null})
    const cookie = /(?:^|;\s*)3x-ui=([^;]+)/.exec(request.headers.cookie ?? '')?.[1]
    const session: StubSession = (cookie === undefined ? undefined : this.sessions.get(cookie)) ?? {}
    const form = String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')
      ? new URLSearchParams(body)
      : null
    const csrfHolds = () => {
      const sent = request.headers['x-csrf-token'] ?? form?.get('_csrf') ?? ''
      return session.csrf !== undefined && sent === session.csrf
    }
    const notFound: [number, string] = [404, '']

    if (this.v3 && request.method === 'GET' && route === '/csrf-token') {
      if (session.csrf !== undefined) return [200, ok(session.csrf)]
      const csrf = randomUUID().replaceAll('-', '')
      return [200, ok(csrf), this.save({...session, csrf})]
    }
    if (request.method === 'POST' && route === '/login') {
      if (this.v3 && !csrfHolds()) return [403, '']
      if (form === null) return [200, failed('not a form')]
      if (form.get('username') !== 'admin' || form.get('password') !== 's3cret')
        return [200, failed('Invalid username or password')]
      return [200, ok(null, 'Logged in successfully'), this.save({...session, loggedIn: true})]
    }
    const handler =
      this.routes().get(`${request.method} ${route.replace(/\/[^/]+$/, '/:param')}`) ??
      this.routes().get(`${request.method} ${route}`)
    if (handler === undefined) return notFound
    if (!session.loggedIn) return notFound
    if (this.v3 && request.method === 'POST' && !csrfHolds()) return [403, '']
    const param = decodeURIComponent(/\/([^/?]+)(?:\?.*)?$/.exec(path)?.[1] ?? '')
    return [200, handler(body, param)]
  }

  /** This version's API routes, as "METHOD /path" with a trailing :param where the route has one. */
  private routes(): Map<string, (body: string, param: string) => string> {
    const ok = (obj: unknown = null, msg = '') => JSON.stringify({success: true, msg, obj})
    const failed = (msg: string) => JSON.stringify({success: false, msg, obj: null})
    const routes = new Map<string, (body: string, param: string) => string>()
    routes.set('GET /panel/api/inbounds/list', () =>
      ok(
        this.inbounds.map((inbound) => ({
          id: inbound.id,
          tag: inbound.tag,
          listen: '',
          port: inbound.port,
          protocol: inbound.protocol,
          settings: JSON.stringify({...inbound.settings, clients: inbound.clients}),
          streamSettings: JSON.stringify(inbound.streamSettings),
        })),
      ),
    )
    if (this.version === '2.9' || this.version === '3.0')
      routes.set('POST /panel/api/inbounds/updateClient/:param', (body, clientId) => {
        const data = JSON.parse(body) as {id: number; settings: string}
        const inbound = this.inbounds.find((entry) => entry.id === data.id)
        const [replacement] = (JSON.parse(data.settings) as {clients: Array<Record<string, unknown>>}).clients
        const key = inbound?.protocol === 'trojan' ? 'password' : inbound?.protocol === 'shadowsocks' ? 'email' : 'id'
        const index = inbound?.clients.findIndex((client) => client[key] === clientId) ?? -1
        if (!inbound || !replacement || index < 0) return failed('Something went wrong (empty client ID)')
        inbound.clients[index] = replacement
        return ok(null, 'Client updated successfully')
      })
    if (this.version === '3.4' || this.version === '3.6')
      // ClientService.UpdateByEmail: the client replaced on every inbound it is on, credentials kept when left out.
      routes.set('POST /panel/api/clients/update/:param', (body, email) => {
        const updated = JSON.parse(body) as Record<string, unknown>
        let found = false
        for (const inbound of this.inbounds)
          inbound.clients = inbound.clients.map((client) => {
            if (client.email !== email) return client
            found = true
            const kept = Object.fromEntries(
              ['id', 'password', 'auth'].filter((key) => !updated[key] && client[key]).map((key) => [key, client[key]]),
            )
            return {...updated, ...kept, updated_at: Date.now()}
          })
        return found ? ok(null, 'Client updated successfully') : failed('Something went wrong (record not found)')
      })
    if (this.version === '3.6')
      for (const [name, enable] of [
        ['bulkEnable', true],
        ['bulkDisable', false],
      ] as const)
        routes.set(`POST /panel/api/clients/${name}`, (body) => {
          const {emails} = JSON.parse(body) as {emails: string[]}
          const wanted = [...new Set(emails.map((email) => email.trim()).filter(Boolean))]
          const skipped = wanted
            .filter((email) => this.entries(email).length === 0)
            .map((email) => ({email, reason: 'client not found'}))
          for (const email of wanted)
            for (const client of this.entries(email))
              if (client.enable !== enable) Object.assign(client, {enable, updated_at: Date.now()})
          return ok({changed: wanted.length - skipped.length, ...(skipped.length > 0 ? {skipped} : {})})
        })
    return routes
  }
}
