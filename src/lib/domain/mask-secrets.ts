/** Enough to tell two secrets apart, never enough to use one: the last 4 characters of long secrets only. */
export function maskSecret(secret: string): string {
  return secret.length >= 16 ? `***${secret.slice(-4)}` : '***'
}

/**
 * A webhook URL as sbq shows it anywhere (lists, errors, warnings, logs): its user and password, every query value,
 * the fragment and each path segment that looks like a token are masked like `--secret`. Hosts and words stay, so
 * two channels can still be told apart. Over-masking is the safe mistake: a URL is often the only credential a
 * receiver has (Slack, Discord, Telegram's /bot<token>/, `?token=`, `?key=`).
 */
export function maskUrl(text: string): string {
  const url = parsedUrl(text)
  if (url === undefined) return text
  const userinfo =
    url.username === '' && url.password === ''
      ? ''
      : `${maskPart(url.username)}${url.password === '' ? '' : `:${maskPart(url.password)}`}@`
  const path = url.pathname
    .split('/')
    .map((segment) => (looksLikeToken(segment) ? maskSecret(segment) : segment))
    .join('/')
  const query = url.search === '' ? '' : `?${url.search.slice(1).split('&').map(maskQueryPair).join('&')}`
  const fragment = url.hash === '' ? '' : '#***'
  return `${url.protocol}//${userinfo}${url.host}${path}${query}${fragment}`
}

/**
 * Masks in free text (an HTTP client's error, a receiver's answer) every secret part of the URL that maskUrl hides,
 * in the forms such text may carry: the whole URL, and each part as written or percent-decoded.
 */
export function maskUrlSecretsIn(text: string, urlText: string): string {
  let masked = text.split(urlText).join(maskUrl(urlText))
  for (const part of secretParts(urlText)) masked = masked.split(part).join('***')
  return masked
}

function secretParts(text: string): string[] {
  const url = parsedUrl(text)
  if (url === undefined) return []
  const parts = [url.username, url.password, url.hash.slice(1)]
  parts.push(...url.pathname.split('/').filter(looksLikeToken))
  for (const pair of url.search.slice(1).split('&')) parts.push(pair.slice(pair.indexOf('=') + 1))
  const withDecoded = parts.flatMap((part) => [part, safelyDecoded(part)])
  // Longest first, so a part is not left half-masked by a shorter part inside it; tiny parts would mask plain words.
  return [...new Set(withDecoded)].filter((part) => part.length >= 4).sort((a, b) => b.length - a.length)
}

function maskQueryPair(pair: string): string {
  const equals = pair.indexOf('=')
  if (equals === -1) return pair === '' ? pair : maskSecret(pair)
  const value = pair.slice(equals + 1)
  return `${pair.slice(0, equals)}=${value === '' ? '' : maskSecret(value)}`
}

function maskPart(part: string): string {
  return part === '' ? '' : maskSecret(part)
}

/** Tokens are long; a long segment of lowercase words (`alerts-endpoint-for-sbq`) is the only kind kept. */
function looksLikeToken(segment: string): boolean {
  return segment.length >= 16 && !/^[a-z]+([-_.][a-z]+)*$/.test(segment)
}

function parsedUrl(text: string): URL | undefined {
  try {
    return new URL(text)
  } catch {
    return undefined
  }
}

function safelyDecoded(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}
