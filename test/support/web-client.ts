import assert from 'node:assert/strict'
import {request as httpRequest} from 'node:http'

/** The admin password the web tests set. */
export const password = 'a long enough admin password'

/** A browser without the browser: a cookie jar over fetch, no redirects followed. */
export class Client {
  readonly jar = new Map<string, string>()
  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = {},
  ) {}

  async request(path: string, init: RequestInit & {form?: Record<string, string>} = {}): Promise<Response> {
    const headers: Record<string, string> = {...this.headers, ...(init.headers as Record<string, string> | undefined)}
    if (this.jar.size > 0) headers.cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ')
    let body = init.body
    if (init.form) {
      body = new URLSearchParams(init.form).toString()
      headers['content-type'] = 'application/x-www-form-urlencoded'
    }
    const response = await fetch(`${this.base}${path}`, {
      ...init,
      body,
      headers,
      redirect: 'manual',
      method: init.method ?? (init.form ? 'POST' : 'GET'),
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const at = pair.indexOf('=')
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)]
      if (/Max-Age=0/.test(line)) this.jar.delete(name)
      else this.jar.set(name, value)
    }
    return response
  }

  /** The CSRF token of the page at `path` (login form or session). */
  async token(path: string): Promise<string> {
    const page = await (await this.request(path)).text()
    const token = /name="_csrf" value="([^"]+)"/.exec(page)?.[1]
    assert.ok(token, `no CSRF token on ${path}`)
    return token
  }

  async logIn(secret = password): Promise<Response> {
    const token = await this.token('/login')
    return this.request('/login', {form: {_csrf: token, password: secret}})
  }
}

/** A request with its target sent exactly as given (fetch would normalise `//` and dot segments away). */
export function rawRequest(
  base: string,
  target: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{status: number; headers: Record<string, string | string[] | undefined>; body: string}> {
  const {hostname, port} = new URL(base)
  return new Promise((resolve, reject) => {
    const sent = httpRequest({host: hostname, port, path: target, method, headers}, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () =>
        resolve({
          status: response.statusCode!,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      response.on('error', reject)
    })
    sent.on('error', reject)
    sent.end()
  })
}
