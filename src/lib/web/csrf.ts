import {randomBytes, timingSafeEqual} from 'node:crypto'

/** The form field every POST carries. */
export const csrfField = '_csrf'

/** A fresh token: 32 random bytes, base64url. */
export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url')
}

/** Whether a form's token is the expected one, in constant time; a missing or empty token never matches. */
export function csrfTokenMatches(given: string | null | undefined, expected: string | null | undefined): boolean {
  if (!given || !expected) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
