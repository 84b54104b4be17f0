import {invalidInput} from '../errors.js'

const namePattern = /^[A-Za-z0-9._@-]{1,64}$/

/** A name is the user's identity on every proxy (Xray email, sing-box name), so it must be one all of them accept. */
export function assertUserName(name: string): string {
  assertName(name, 'user name')
  // `/users/..` is `/` to every browser and URL parser, so the dashboard could never reach such a user.
  if (/^\.+$/.test(name)) {
    throw invalidInput('INVALID_NAME', `user name "${name}" is only dots`, 'add a letter, digit, "_", "@" or "-" to it')
  }
  return name
}

/**
 * A name as Xray and V2Ray compare it: they lower-case every email with Go's strings.ToLower before they look it up
 * (v2fly/v2ray-core proxy/vmess/inbound/inbound.go userByEmail; XTLS/Xray-core proxy/vless/validator.go,
 * proxy/trojan/validator.go, proxy/shadowsocks/validator.go), so two names with one key are one user to them. Go maps
 * each code point alone: no final sigma, and "İ" becomes a plain "i" where JavaScript adds a combining dot.
 */
export function proxyNameKey(name: string): string {
  return Array.from(name, (char) => (char === '\u0130' ? 'i' : char.toLowerCase())).join('')
}

export function assertPlanName(name: string): string {
  return assertName(name, 'plan name')
}

function assertName(name: string, what: string): string {
  if (!namePattern.test(name)) {
    throw invalidInput(
      'INVALID_NAME',
      `${what} "${name}" is not valid`,
      'use 1-64 characters of letters, digits, ".", "_", "@" or "-"',
    )
  }
  return name
}
