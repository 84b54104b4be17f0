import type {IncomingMessage, ServerResponse} from 'node:http'
import {performance} from 'node:perf_hooks'

import type {Context} from '../context.js'
import {planNames} from '../db/dashboard-repository.js'
import type {Db} from '../db/open-database.js'
import {SbqError} from '../errors.js'
import {requireUser} from '../users/user-service.js'
import {adminPasswordHash, verifyPassword} from './admin-password.js'
import {
  addUserFromForm,
  removeFromForm,
  resetFromForm,
  rotateLinkFromForm,
  setQuotaFromForm,
  setStatusFromForm,
  syncAfterChange,
  topUpFromForm,
  type ActionResult,
} from './dashboard-actions.js'
import {loadDashboard, loadUserPage} from './dashboard-data.js'
import {csrfField, csrfTokenMatches, newCsrfToken} from './csrf.js'
import type {Html} from './html.js'
import {isLanguage, languageFromHeader, translator, type Language, type Translate} from './i18n/messages.js'
import {LoginRateLimit, rateLimitKey} from './login-rate-limit.js'
import {dashboardPage} from './pages/dashboard-page.js'
import {errorPage} from './pages/error-page.js'
import type {Frame} from './pages/layout.js'
import {loginPage} from './pages/login-page.js'
import {addUserPage, createdPage, removePage, type AddUserValues} from './pages/user-forms.js'
import {userPage} from './pages/user-page.js'
import {userPath} from './pages/view-format.js'
import {
  absoluteLifetimeMs,
  createSession,
  endSession,
  endSessionOf,
  loadSession,
  setFlash,
  takeFlash,
  type Flash,
  type Session,
} from './sessions.js'
import {createAssetServer, securityHeaders} from './static-assets.js'
import {parseUsersQuery} from './users-query.js'
import {VerificationSlots} from './verification-slots.js'
import {
  clientIp,
  cookieName,
  FormError,
  parseCookies,
  readForm,
  requestIsSecure,
  requestOrigin,
  requestUrl,
  sameOriginPath,
  serializeCookie,
} from './web-request.js'

export interface DashboardOptions {
  db: Db
  /** The clock and zone for each request, with actor `web`. */
  context: () => Promise<Context>
  /** `--trust-proxy`: believe X-Forwarded-Proto (Secure cookies) and X-Forwarded-For (the rate limit's client IP) from a loopback peer. */
  trustProxy: boolean
  /** One line for the operator (failed logins, failures that are sbq's). */
  log: (line: string) => void
  rateLimit?: LoginRateLimit
  /** The cap on password checks running at once, across all clients. */
  verificationSlots?: VerificationSlots
  /** The login rate limit's clock (tests move it past the window); Date.now otherwise. */
  now?: () => number
}

export type DashboardHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>

const sessionCookie = 'sbq_session'
const loginCookie = 'sbq_login'
const languageCookie = 'sbq_lang'

/** Known `?m=` notes on the login page; anything else shows nothing (no text is ever reflected from the URL). */
const loginNotes = {loggedOut: 'login.loggedOut', expired: 'login.expired'} as const

const userRoute = /^\/users\/([^/]+)(?:\/(quota|topup|enable|disable|reset|remove|rotate-link))?\/?$/

/** One request being answered. */
interface Exchange {
  request: IncomingMessage
  response: ServerResponse
  url: URL
  started: number
  cookies: Map<string, string>
  secure: boolean
  language: Language
  t: Translate
}

/**
 * The web dashboard: login, the users table, a page per user, and forms that call the same domain functions as the
 * CLI. Every page is rendered on the server; the one script only adds conveniences (copy buttons, confirmations).
 */
export function createDashboard(options: DashboardOptions): DashboardHandler {
  const assets = createAssetServer()
  const assetUrls = assets.urls
  const rateLimit = options.rateLimit ?? new LoginRateLimit()
  const slots = options.verificationSlots ?? new VerificationSlots()
  const now = options.now ?? Date.now
  const {db} = options

  function frame(exchange: Exchange, csrf: string | null, flash: Flash | null = null): Frame {
    return {
      t: exchange.t,
      language: exchange.language,
      here: `${exchange.url.pathname}${exchange.url.search}`,
      assets: assetUrls,
      csrf,
      flash,
    }
  }

  function cookie(exchange: Exchange, name: string, value: string, maxAge?: number): string {
    return serializeCookie(cookieName(name, exchange.secure), value, {maxAge, secure: exchange.secure})
  }

  function readCookie(exchange: Exchange, name: string): string | undefined {
    return exchange.cookies.get(cookieName(name, exchange.secure))
  }

  /** The flash to show: taken (cleared) by a GET, only looked at by a HEAD, which shows nobody anything. */
  async function flashFor(exchange: Exchange, session: Session): Promise<Flash | null> {
    return exchange.request.method === 'HEAD' ? session.flash : takeFlash(db, session)
  }

  function send(exchange: Exchange, status: number, page: Html, headers: Record<string, string | string[]> = {}): void {
    const duration = performance.now() - exchange.started
    exchange.response.writeHead(status, {
      ...securityHeaders,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'server-timing': `app;dur=${duration.toFixed(1)}`,
      ...headers,
    })
    exchange.response.end(exchange.request.method === 'HEAD' ? undefined : page.text)
  }

  /** A 303 to a path on this site; anything that could name another host (`//host`, `/\host`) goes to `/` instead. */
  function redirect(exchange: Exchange, location: string, cookies: string[] = []): void {
    exchange.response.writeHead(303, {
      ...securityHeaders,
      location: sameOriginPath.test(location) ? location : '/',
      'cache-control': 'no-store',
      ...(cookies.length > 0 ? {'set-cookie': cookies} : {}),
    })
    exchange.response.end()
  }

  async function showLogin(
    exchange: Exchange,
    status: number,
    message: {kind: 'ok' | 'error'; text: string} | null,
    headers: Record<string, string> = {},
  ): Promise<void> {
    const loginToken = newCsrfToken()
    send(exchange, status, loginPage(frame(exchange, null), {loginToken, message}), {
      ...headers,
      'set-cookie': cookie(exchange, loginCookie, loginToken, 3600),
    })
  }

  async function logIn(exchange: Exchange): Promise<void> {
    const ip = clientIp(exchange.request, options.trustProxy)
    const key = rateLimitKey(ip)
    // Counted before the first await, so requests sent in parallel each see the others as attempts.
    const wait = rateLimit.begin(key, now())
    if (wait > 0) {
      exchange.request.resume()
      await showLogin(
        exchange,
        429,
        {kind: 'error', text: exchange.t('login.tooMany', {minutes: Math.ceil(wait / 60_000)})},
        {'retry-after': String(Math.ceil(wait / 1000))},
      )
      return
    }
    const form = await readForm(exchange.request)
    if (!csrfTokenMatches(form.get(csrfField), readCookie(exchange, loginCookie))) {
      await showLogin(exchange, 403, {kind: 'error', text: exchange.t('login.formExpired')})
      return
    }
    const hash = await adminPasswordHash(db)
    const password = form.get('password') ?? ''
    let right = false
    if (hash !== null && password !== '') {
      if (!slots.tryTake()) {
        options.log(`dashboard: login from ${ip} refused: ${slots.max} password checks already running`)
        await showLogin(exchange, 429, {kind: 'error', text: exchange.t('login.busy')}, {'retry-after': '1'})
        return
      }
      try {
        right = await verifyPassword(password, hash)
      } finally {
        slots.release()
      }
    }
    if (!right) {
      options.log(`dashboard: failed login from ${ip}`)
      await showLogin(exchange, 401, {kind: 'error', text: exchange.t('login.wrong')})
      return
    }
    rateLimit.succeed(key)
    await endSessionOf(db, readCookie(exchange, sessionCookie))
    const {id} = await createSession(db, (await options.context()).now)
    redirect(exchange, '/', [
      cookie(exchange, sessionCookie, id, absoluteLifetimeMs / 1000),
      cookie(exchange, loginCookie, '', 0),
    ])
  }

  async function route(exchange: Exchange): Promise<void> {
    const {request, url} = exchange
    const method = request.method ?? 'GET'
    const path = url.pathname
    const reading = method === 'GET' || method === 'HEAD'
    // Dot segments can still resolve to `//host` (`/a/..//host`): no page of sbq's has such a path.
    if (!sameOriginPath.test(path)) {
      request.resume()
      return send(
        exchange,
        404,
        errorPage(frame(exchange, null), exchange.t('error.notFound'), exchange.t('error.notFoundBody')),
      )
    }

    if (assets.serve(request, exchange.response, path)) return
    // The language switch: remembered in a cookie, then the same page without the parameter.
    const chosen = url.searchParams.get('lang')
    if (reading && isLanguage(chosen)) {
      url.searchParams.delete('lang')
      return redirect(exchange, `${url.pathname}${url.search}`, [
        cookie(exchange, languageCookie, chosen, 365 * 86_400),
      ])
    }

    const context = await options.context()
    const session = await loadSession(db, readCookie(exchange, sessionCookie), context.now)

    if (path === '/login') {
      if (method === 'POST') return logIn(exchange)
      if (!reading) return methodNotAllowed(exchange, 'GET, HEAD, POST')
      if (session !== null) return redirect(exchange, '/')
      const note = loginNotes[url.searchParams.get('m') as keyof typeof loginNotes]
      return showLogin(exchange, 200, note === undefined ? null : {kind: 'ok', text: exchange.t(note)})
    }

    if (session === null) {
      const stale = readCookie(exchange, sessionCookie) !== undefined
      if (reading)
        return redirect(
          exchange,
          stale ? '/login?m=expired' : '/login',
          stale ? [cookie(exchange, sessionCookie, '', 0)] : [],
        )
      request.resume()
      return send(
        exchange,
        403,
        errorPage(frame(exchange, null), exchange.t('error.forbidden'), exchange.t('login.expired')),
        {connection: 'close'},
      )
    }

    if (!reading) {
      if (method !== 'POST') return methodNotAllowed(exchange, 'GET, HEAD, POST')
      const form = await readForm(request)
      if (!csrfTokenMatches(form.get(csrfField), session.csrfToken)) {
        options.log(`dashboard: refused ${method} ${path}: no valid CSRF token`)
        return send(
          exchange,
          403,
          errorPage(frame(exchange, session.csrfToken), exchange.t('error.forbidden'), exchange.t('error.csrf')),
        )
      }
      return post(exchange, session, context, path, form)
    }
    return get(exchange, session, context, path)
  }

  async function get(exchange: Exchange, session: Session, context: Context, path: string): Promise<void> {
    const {t, url} = exchange
    if (path === '/') {
      const view = await loadDashboard(db, parseUsersQuery(url.searchParams), context)
      return send(
        exchange,
        200,
        dashboardPage(frame(exchange, session.csrfToken, await flashFor(exchange, session)), view),
      )
    }
    if (path === '/add')
      return send(
        exchange,
        200,
        addUserPage(frame(exchange, session.csrfToken, await flashFor(exchange, session)), await planNames(db)),
      )
    const match = userRoute.exec(path)
    const name = match === null ? null : safeDecode(match[1]!)
    if (match !== null && name !== null && (match[2] === undefined || match[2] === 'remove')) {
      try {
        if (match[2] === 'remove') {
          await requireUser(db, name)
          return send(exchange, 200, removePage(frame(exchange, session.csrfToken), name))
        }
        const view = await loadUserPage(
          db,
          name,
          {
            secrets: url.searchParams.get('credentials') === 'show',
            origin: requestOrigin(exchange.request, options.trustProxy),
          },
          context,
        )
        return send(
          exchange,
          200,
          userPage(frame(exchange, session.csrfToken, await flashFor(exchange, session)), view),
        )
      } catch (error) {
        if (error instanceof SbqError && error.code === 'USER_NOT_FOUND') {
          return send(
            exchange,
            404,
            errorPage(frame(exchange, session.csrfToken), t('error.notFound'), t('error.userNotFound', {name})),
          )
        }
        throw error
      }
    }
    return send(
      exchange,
      404,
      errorPage(frame(exchange, session.csrfToken), t('error.notFound'), t('error.notFoundBody')),
    )
  }

  async function post(
    exchange: Exchange,
    session: Session,
    context: Context,
    path: string,
    form: URLSearchParams,
  ): Promise<void> {
    const {t} = exchange
    if (path === '/logout') {
      await endSession(db, session)
      return redirect(exchange, '/login?m=loggedOut', [cookie(exchange, sessionCookie, '', 0)])
    }
    if (path === '/add') return addFromForm(exchange, session, context, form)
    const match = userRoute.exec(path)
    const name = match === null ? null : safeDecode(match[1]!)
    if (match === null || name === null || match[2] === undefined) {
      return send(
        exchange,
        404,
        errorPage(frame(exchange, session.csrfToken), t('error.notFound'), t('error.notFoundBody')),
      )
    }
    const action = match[2] as 'quota' | 'topup' | 'enable' | 'disable' | 'reset' | 'remove' | 'rotate-link'
    const back = userPath(name)
    let result: ActionResult
    try {
      switch (action) {
        case 'quota':
          result = await setQuotaFromForm(db, name, form, context, t)
          break
        case 'topup':
          result = await topUpFromForm(db, name, form, context, t)
          break
        case 'enable':
        case 'disable':
          result = await setStatusFromForm(db, name, action === 'enable' ? 'active' : 'disabled', form, context, t)
          break
        case 'reset':
          result = await resetFromForm(db, name, context, t)
          break
        case 'remove':
          result = await removeFromForm(db, name, context, t)
          break
        case 'rotate-link':
          result = await rotateLinkFromForm(db, name, context, t)
          break
      }
    } catch (error) {
      if (!(error instanceof SbqError)) throw error
      await setFlash(db, session, {kind: 'error', lines: [t('flash.failed', {error: describeError(error)})]})
      return redirect(exchange, error.code === 'USER_NOT_FOUND' ? '/' : back)
    }
    await setFlash(db, session, {kind: 'ok', lines: result.lines, warnings: result.warnings})
    return redirect(exchange, action === 'remove' ? '/' : back)
  }

  async function addFromForm(
    exchange: Exchange,
    session: Session,
    context: Context,
    form: URLSearchParams,
  ): Promise<void> {
    const values: AddUserValues = Object.fromEntries(
      ['name', 'monthly', 'total', 'reset', 'expires', 'plan', 'note'].map((key) => [key, form.get(key) ?? '']),
    )
    try {
      const user = await addUserFromForm(db, form, context)
      const warnings = await syncAfterChange(db, context, exchange.t)
      return send(
        exchange,
        200,
        createdPage(
          frame(exchange, session.csrfToken, {
            kind: 'ok',
            lines: [exchange.t('flash.created', {name: user.name})],
            warnings,
          }),
          user,
        ),
      )
    } catch (error) {
      if (!(error instanceof SbqError)) throw error
      return send(
        exchange,
        error.exit === 3 ? 409 : 400,
        addUserPage(
          frame(exchange, session.csrfToken),
          await planNames(db),
          values,
          exchange.t('flash.failed', {error: describeError(error)}),
        ),
      )
    }
  }

  function methodNotAllowed(exchange: Exchange, allow: string): void {
    exchange.request.resume()
    send(
      exchange,
      405,
      errorPage(
        frame(exchange, null),
        exchange.t('error.badRequest'),
        `${exchange.request.method} ${exchange.url.pathname}`,
      ),
      {allow},
    )
  }

  return async (request, response) => {
    const started = performance.now()
    const url = requestUrl(request.url)
    const cookies = parseCookies(request.headers.cookie)
    const secure = requestIsSecure(request, options.trustProxy)
    const chosen = cookies.get(cookieName(languageCookie, secure))
    const language = isLanguage(chosen) ? chosen : languageFromHeader(request.headers['accept-language'])
    const exchange: Exchange = {request, response, url, started, cookies, secure, language, t: translator(language)}
    try {
      await route(exchange)
    } catch (error) {
      if (!(error instanceof FormError)) throw error
      const text = error.status === 413 ? exchange.t('error.tooLarge') : error.message
      send(exchange, error.status, errorPage(frame(exchange, null), exchange.t('error.badRequest'), text), {
        connection: 'close',
      })
    }
  }
}

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text)
  } catch {
    return null
  }
}

/** An SbqError as one line: the message and, when there is one, its hint. */
function describeError(error: SbqError): string {
  return error.hint === undefined ? error.message : `${error.message} (${error.hint})`
}
