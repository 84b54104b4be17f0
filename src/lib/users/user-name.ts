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

export function assertPlanName(name: string): string {
  return assertName(name, 'plan name')
}

function assertName(name: string, what: string): string {
  if (!namePattern.test(name)) {
    throw invalidInput('INVALID_NAME', `${what} "${name}" is not valid`, 'use 1-64 characters of letters, digits, ".", "_", "@" or "-"')
  }
  return name
}
