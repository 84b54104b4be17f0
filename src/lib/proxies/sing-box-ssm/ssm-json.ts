/**
 * Shapes of sing-box's SSM API JSON (service/ssmapi/api.go), checked field by field: the API is plain HTTP and a
 * wrong base URL easily lands on some other server that also answers JSON.
 */

export interface SsmUserStats {
  username: string
  uplinkBytes: number
  downlinkBytes: number
}

export interface SsmStats {
  uplinkBytes: number
  downlinkBytes: number
  users: SsmUserStats[]
}

/** Thrown for a body that is not the expected JSON; the adapter turns it into an SbqError naming the node. */
export class SsmFormatError extends Error {
  override name = 'SsmFormatError'
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Go writes int64 counters as JSON numbers; JSON.parse turns anything above 2^53-1 into a rounded double, which is
 * never a safe integer, so such a value is refused rather than silently rounded.
 */
function byteCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SsmFormatError(`${what} is "${String(value)}", not a byte count between 0 and 2^53-1`)
  }
  return value
}

function parseObject(body: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    throw new SsmFormatError(`reply is not JSON (starts "${body.slice(0, 40)}")`)
  }
  if (!isRecord(parsed)) throw new SsmFormatError('reply is not a JSON object')
  return parsed
}

/** The `users` list of a reply, each entry with its `username`. */
function userEntries(parsed: Record<string, unknown>): Array<{username: string; entry: Record<string, unknown>}> {
  const rawUsers = parsed['users'] ?? []
  if (!Array.isArray(rawUsers)) throw new SsmFormatError('"users" is not a list')
  return rawUsers.map((entry: unknown, index) => {
    if (!isRecord(entry) || typeof entry['username'] !== 'string') {
      throw new SsmFormatError(`users[${index}] has no "username"`)
    }
    return {username: entry['username'], entry}
  })
}

/** `GET /server/v1/users`: each user's name and uPSK (Go omits an empty uPSK). */
export function parseSsmUsers(body: string): Map<string, string> {
  const users = new Map<string, string>()
  for (const {username, entry} of userEntries(parseObject(body))) {
    const uPSK = entry['uPSK'] ?? ''
    if (typeof uPSK !== 'string') throw new SsmFormatError(`uPSK of user "${username}" is not a string`)
    users.set(username, uPSK)
  }
  return users
}

export function parseSsmStats(body: string): SsmStats {
  const parsed = parseObject(body)
  const users = userEntries(parsed).map(({username, entry}): SsmUserStats => {
    return {
      username,
      uplinkBytes: byteCount(entry['uplinkBytes'], `uplinkBytes of user "${username}"`),
      downlinkBytes: byteCount(entry['downlinkBytes'], `downlinkBytes of user "${username}"`),
    }
  })
  return {
    uplinkBytes: byteCount(parsed['uplinkBytes'], 'uplinkBytes'),
    downlinkBytes: byteCount(parsed['downlinkBytes'], 'downlinkBytes'),
    users,
  }
}
