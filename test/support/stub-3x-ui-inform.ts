import {request} from 'node:http'

/**
 * 3x-ui's External Traffic Inform, as MHSanaei/3x-ui sends it at v3.6 (internal/web/job/xray_traffic_job.go,
 * informTrafficToExternalAPI): json.Marshal of {"clientTraffics": []*xray.ClientTraffic, "inboundTraffics":
 * []*xray.Traffic}, POSTed with `Content-Type: application/json; charset=UTF-8` and `Connection: close`, a 3 s timeout,
 * no retry, and the status never read. Rows follow internal/xray/client_traffic.go (every JSON field, in struct order,
 * zero but for email, up and down, as GetTraffic fills them) and internal/xray/traffic.go (Go field names).
 */
export interface InformClient {
  email: string
  up: number
  down: number
}

export function clientTrafficRow({email, up, down}: InformClient): Record<string, unknown> {
  return {
    id: 0,
    inboundId: 0,
    enable: false,
    email,
    uuid: '',
    subId: '',
    up,
    down,
    expiryTime: 0,
    total: 0,
    reset: 0,
    resetDay: 0,
    resetWeekday: 0,
    resetMax: 0,
    resetCount: 0,
    lastOnline: 0,
    lastSubFetch: 0,
    sessionStart: 0,
    sessionUp: 0,
    sessionDown: 0,
  }
}

export function informTrafficBody(
  clients: InformClient[],
  inbounds: Array<{tag: string; up: number; down: number; outbound?: boolean}> = [],
): string {
  return JSON.stringify({
    clientTraffics: clients.map(clientTrafficRow),
    inboundTraffics: inbounds.map(({tag, up, down, outbound}) => ({
      IsInbound: !outbound,
      IsOutbound: outbound === true,
      Tag: tag,
      Up: up,
      Down: down,
    })),
  })
}

export interface InformAttempt {
  /** The receiver's status, which 3x-ui itself ignores; null when the 3 s timeout or the connection ended first. */
  status: number | null
  body: string
  ms: number
}

/**
 * One POST as 3x-ui's fasthttp client makes it. `declaredLength` sends a Content-Length larger than the body (a
 * receiver that refuses on the header alone answers before the rest would come).
 */
export function postInform(
  url: string,
  body: string | Buffer,
  options: {timeoutMs?: number; declaredLength?: number} = {},
): Promise<InformAttempt> {
  const started = performance.now()
  const target = new URL(url)
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  return new Promise((resolve) => {
    const done = (status: number | null, text: string): void =>
      resolve({status, body: text, ms: performance.now() - started})
    const outgoing = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json; charset=UTF-8',
          connection: 'close',
          'content-length': options.declaredLength ?? bytes.length,
        },
        timeout: options.timeoutMs ?? 3000,
      },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        response.on('end', () => done(response.statusCode ?? null, text))
        response.on('error', () => done(response.statusCode ?? null, text))
      },
    )
    outgoing.on('timeout', () => outgoing.destroy())
    outgoing.on('error', () => done(null, ''))
    outgoing.end(options.declaredLength === undefined ? bytes : bytes.subarray(0, Math.min(bytes.length, 1024)))
  })
}
