import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'

/** A node's inform secret: 32 random bytes, URL-safe, since 3x-ui can only carry it in the URL. */
export function newInformToken(): string {
  return randomBytes(32).toString('base64url')
}

export function hashInformToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** A stand-in compared against when the node does not exist, so an unknown node takes as long as a wrong token. */
const noNodeHash = hashInformToken(newInformToken())

/** Hashes the presented token and compares in constant time; `storedHash` null (no such node, no token) never matches. */
export function informTokenMatches(token: string, storedHash: string | null): boolean {
  const presented = createHash('sha256').update(token, 'utf8').digest()
  const stored = Buffer.from(storedHash ?? noNodeHash, 'hex')
  return stored.length === presented.length && timingSafeEqual(presented, stored) && storedHash !== null
}
