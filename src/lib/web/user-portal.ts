import type {IncomingMessage, ServerResponse} from 'node:http'

import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {userPortal} from '../share-links/user-portal.js'
import type {Html} from './html.js'
import {isLanguage, languageFromHeader, translator, type Language} from './i18n/messages.js'
import {errorPage} from './pages/error-page.js'
import type {Frame} from './pages/layout.js'
import {portalPage} from './pages/portal-page.js'
import {qrSvg} from './qr-svg.js'
import {createAssetServer, securityHeaders, type AssetServer} from './static-assets.js'
import {requestOrigin, requestUrl} from './web-request.js'

export interface UserPortalOptions {
  db: Db
  context: () => Promise<Context>
  /** `--trust-proxy`: the scheme of the subscription URL shown comes from X-Forwarded-Proto. */
  trustProxy: boolean
}

export type UserPortalHandler = (request: IncomingMessage, response: ServerResponse, token: string) => Promise<void>

/**
 * `/u/<token>`: a user's own read-only page, found by their subscription token (no login; the token is the key, as
 * for `/sub/`). Served whether or not the dashboard is on; the language is `?lang=` or the browser's, never stored.
 */
export function createUserPortal(options: UserPortalOptions): {page: UserPortalHandler; assets: AssetServer} {
  const assets = createAssetServer()

  function frame(language: Language, here: string): Frame {
    return {t: translator(language), language, here, assets: assets.urls, csrf: null, flash: null, home: null}
  }

  function send(request: IncomingMessage, response: ServerResponse, status: number, page: Html): void {
    response.writeHead(status, {
      ...securityHeaders,
      // The URL is the user's key: no other site ever learns it from a Referer.
      'referrer-policy': 'no-referrer',
      'x-robots-tag': 'noindex, nofollow',
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
    })
    response.end(request.method === 'HEAD' ? undefined : page.text)
  }

  const page: UserPortalHandler = async (request, response, token) => {
    const url = requestUrl(request.url)
    const chosen = url.searchParams.get('lang')
    const language = isLanguage(chosen) ? chosen : languageFromHeader(request.headers['accept-language'])
    const here = `${url.pathname}${url.search}`
    const t = translator(language)
    const context = await options.context()
    const portal = await userPortal(options.db, token, context)
    if (portal === undefined) {
      return send(request, response, 404, errorPage(frame(language, here), t('error.notFound'), t('portal.notFound')))
    }
    const subscriptionUrl =
      portal.subscription.url ?? `${requestOrigin(request, options.trustProxy)}${portal.subscription.path}`
    const texts = [
      subscriptionUrl,
      ...portal.nodes.flatMap((node) => node.links.flatMap((entry) => ('link' in entry ? [entry.link] : []))),
    ]
    // A text too long for a QR code gets none; its copy button still works.
    const qr = new Map(
      (await Promise.all(texts.map(async (text) => [text, await qrSvg(text).catch(() => null)] as const))).flatMap(
        ([text, svg]) => (svg === null ? [] : [[text, svg] as const]),
      ),
    )
    send(
      request,
      response,
      200,
      portalPage(frame(language, here), {portal, subscriptionUrl, qr, timeZone: context.timeZone}),
    )
  }
  return {page, assets}
}
