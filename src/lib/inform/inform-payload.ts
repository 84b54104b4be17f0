import type {TrafficDelta} from '../domain/counter-deltas.js'

/** The header carrying a push's id; the receiver records it with the usage, so a re-sent push counts once. */
export const requestIdHeader = 'idempotency-key'

/** A 3x-ui External Traffic Inform body, checked: deltas per client email and per inbound tag since the last report. */
export interface InformPayload {
  clients: Map<string, TrafficDelta>
  inbounds: Map<string, TrafficDelta>
}

/** Why a body was refused; the receiver answers 400 with this reason and records nothing. */
export class InformPayloadError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'InformPayloadError'
  }
}

const maxNameLength = 256

/**
 * Parses and checks a whole body before anything is recorded. 3x-ui marshals Go slices, so an empty list may come as
 * `null`; it also sends rows with zero change and outbound rows among `inboundTraffics`, which are skipped here.
 */
export function parseInformPayload(text: string): InformPayload {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new InformPayloadError('body is not JSON')
  }
  if (!isObject(body)) throw new InformPayloadError('body is not a JSON object')
  const clients = new Map<string, TrafficDelta>()
  for (const [index, row] of listAt(body, 'clientTraffics').entries()) {
    const where = `clientTraffics[${index}]`
    if (!isObject(row)) throw new InformPayloadError(`${where} is not an object`)
    add(clients, nameAt(row, 'email', where), bytesAt(row, 'up', where), bytesAt(row, 'down', where))
  }
  const inbounds = new Map<string, TrafficDelta>()
  for (const [index, row] of listAt(body, 'inboundTraffics').entries()) {
    const where = `inboundTraffics[${index}]`
    if (!isObject(row)) throw new InformPayloadError(`${where} is not an object`)
    const tag = nameAt(row, 'Tag', where)
    const up = bytesAt(row, 'Up', where)
    const down = bytesAt(row, 'Down', where)
    if (row.IsInbound === true) add(inbounds, tag, up, down)
  }
  return {clients, inbounds}
}

/** The body sbq pushes to a central receiver: the same shape 3x-ui sends, so one receiver takes both. */
export function informBody(clients: ReadonlyMap<string, TrafficDelta>): string {
  return JSON.stringify({
    clientTraffics: [...clients].map(([email, {up, down}]) => ({email, up, down})),
    inboundTraffics: [],
  })
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function listAt(body: Record<string, unknown>, key: string): unknown[] {
  const value = body[key]
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new InformPayloadError(`${key} is not a list`)
  return value
}

function nameAt(row: Record<string, unknown>, key: string, where: string): string {
  const value = row[key]
  if (typeof value !== 'string' || value === '' || value.length > maxNameLength)
    throw new InformPayloadError(`${where}.${key} is not a name`)
  return value
}

function bytesAt(row: Record<string, unknown>, key: string, where: string): number {
  const value = row[key]
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InformPayloadError(`${where}.${key} is not a whole number of bytes from 0 to 2^53-1`)
  }
  return value
}

function add(totals: Map<string, TrafficDelta>, name: string, up: number, down: number): void {
  const total = totals.get(name) ?? {up: 0, down: 0}
  total.up += up
  total.down += down
  if (!Number.isSafeInteger(total.up) || !Number.isSafeInteger(total.down))
    throw new InformPayloadError(`the bytes of "${name}" add up past 2^53-1`)
  totals.set(name, total)
}
