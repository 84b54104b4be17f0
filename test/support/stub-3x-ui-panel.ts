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
 * A 3x-ui panel as v2.4–v2.9 routes it, under a web base path: POST /login (form) sets the session cookie; the API
 * answers 404 without it; updateClient finds the client by its protocol's key and replaces it whole.
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
  private readonly session = randomUUID()

  constructor(private readonly basePath: string) {
    this.server = createServer((request, response) => {
      void this.handle(request).then(([status, body, headers]) => {
        response.writeHead(status, {'content-type': 'application/json', ...headers})
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

  private async handle(request: IncomingMessage): Promise<[number, string, Record<string, string>?]> {
    const body = await new Promise<string>((resolve) => {
      let text = ''
      request.on('data', (chunk: Buffer) => (text += chunk.toString()))
      request.on('end', () => resolve(text))
    })
    const path = (request.url ?? '').slice(this.basePath.length)
    this.calls.push(`${request.method} ${path}`)
    const ok = (obj: unknown = null) => JSON.stringify({success: true, msg: '', obj})
    if (request.method === 'POST' && path === '/login') {
      const form = new URLSearchParams(body)
      if (!String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
        return [200, JSON.stringify({success: false, msg: 'not a form'})]
      if (form.get('username') !== 'admin' || form.get('password') !== 's3cret')
        return [200, JSON.stringify({success: false, msg: 'Invalid username or password'})]
      return [200, ok(), {'set-cookie': `3x-ui=${this.session}; Path=/; HttpOnly`}]
    }
    if (!(request.headers.cookie ?? '').includes(`3x-ui=${this.session}`)) return [404, '404 page not found']
    if (request.method === 'GET' && path === '/panel/api/inbounds/list') {
      return [
        200,
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
      ]
    }
    const update = /^\/panel\/api\/inbounds\/updateClient\/(.+)$/.exec(path)
    if (request.method === 'POST' && update) {
      const data = JSON.parse(body) as {id: number; settings: string}
      const inbound = this.inbounds.find((entry) => entry.id === data.id)
      const [replacement] = (JSON.parse(data.settings) as {clients: Array<Record<string, unknown>>}).clients
      const key = inbound?.protocol === 'trojan' ? 'password' : inbound?.protocol === 'shadowsocks' ? 'email' : 'id'
      const index = inbound?.clients.findIndex((client) => client[key] === decodeURIComponent(update[1]!)) ?? -1
      if (!inbound || !replacement || index < 0)
        return [200, JSON.stringify({success: false, msg: 'Something went wrong (empty client ID)'})]
      inbound.clients[index] = replacement
      return [200, ok()]
    }
    return [404, '404 page not found']
  }
}
