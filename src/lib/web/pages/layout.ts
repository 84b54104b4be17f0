import {csrfField} from '../csrf.js'
import {html, type Html, type HtmlValue} from '../html.js'
import {languageCodes, languages, type Language, type Translate} from '../i18n/messages.js'
import type {Flash} from '../sessions.js'
import {requestUrl, sameOriginPath} from '../web-request.js'

/** What every page is drawn with. */
export interface Frame {
  t: Translate
  language: Language
  /** The page's own path and query, for the language switch. */
  here: string
  /** Versioned asset URLs. */
  assets: {css: string; js: string}
  /** The session's CSRF token; null on the login page (no session yet). */
  csrf: string | null
  flash: Flash | null
  /** Where the brand links to: the dashboard's home; null on a user's own page, which leads nowhere else. */
  home?: string | null
}

export function csrfInput(frame: Frame): Html {
  return html`<input type="hidden" name="${csrfField}" value="${frame.csrf ?? ''}">`
}

/** `here` with `lang` set: the switch keeps the reader on the same page, or goes home from a path naming a host. */
function languageHref(here: string, language: Language): string {
  const url = requestUrl(here)
  if (!sameOriginPath.test(url.pathname)) url.pathname = '/'
  url.searchParams.set('lang', language)
  return `${url.pathname}${url.search}`
}

function flashBox(flash: Flash | null): Html {
  if (flash === null) return html``
  const warnings = flash.warnings ?? []
  return html`<div class="flash flash-${flash.kind}" role="status">${flash.lines.map((line) => html`<p>${line}</p>`)}</div>${
    warnings.length === 0
      ? ''
      : html`<div class="flash flash-warn" role="alert">${warnings.map((line) => html`<p>${line}</p>`)}</div>`
  }`
}

export function layout(frame: Frame, title: string, body: HtmlValue): Html {
  const {t} = frame
  const loggedIn = frame.csrf !== null
  const switcher = languageCodes.map((language) =>
    language === frame.language
      ? html`<span class="lang-current" aria-current="true">${languages[language]['lang.name']}</span>`
      : html`<a href="${languageHref(frame.here, language)}" hreflang="${language}" lang="${language}">${languages[language]['lang.name']}</a>`,
  )
  const nav = loggedIn
    ? html`<nav class="nav"><a href="/">${t('nav.dashboard')}</a><a href="/add">${t('nav.addUser')}</a></nav>`
    : html``
  const logout = loggedIn
    ? html`<form method="post" action="/logout" class="logout">${csrfInput(frame)}<button type="submit" class="link-button">${t('nav.logout')}</button></form>`
    : html``
  return html`<!doctype html>
<html lang="${frame.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${t('app.title')}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${frame.assets.css}">
<script src="${frame.assets.js}" defer></script>
</head>
<body>
<header class="top">
${frame.home === null ? html`<span class="brand">${t('app.title')}</span>` : html`<a class="brand" href="${frame.home ?? '/'}">${t('app.title')}</a>`}
${nav}
<div class="tools"><span class="langs" aria-label="${t('nav.language')}">${switcher}</span>${logout}</div>
</header>
<main>
${flashBox(frame.flash)}
${body}
</main>
</body>
</html>
`
}
