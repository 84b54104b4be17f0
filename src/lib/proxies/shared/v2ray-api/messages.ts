/**
 * Encoders and decoders for the V2Ray-family API messages, by field number as Xray-core declares them in
 * app/stats/command/command.proto, app/proxyman/command/command.proto, common/protocol/user.proto and
 * common/serial/typed_message.proto (V2Ray 4.x and sing-box's v2ray_api use the same numbers under `v2ray.core`).
 * Both sides are here because the test stub serves the same messages the adapter sends.
 */
import {
  ProtoReader,
  ProtoWriter,
  WireFormatError,
  WireRangeError,
  WireType,
  expectWireType,
  fieldOf,
  wireTypeOf,
} from '../grpc-wire.js'

/** A counter as it travels; bigint only where a test needs a value past 2^53. */
export interface WireStat {
  name: string
  value: number | bigint
}

export interface DecodedStat {
  name: string
  value: number
}

export interface StatsRequest {
  pattern: string
  reset: boolean
}

export interface GetStatsRequest {
  name: string
  reset: boolean
}

export interface TypedMessage {
  type: string
  value: Uint8Array
}

export interface ProtocolUser {
  level: number
  email: string
  account: TypedMessage | null
}

export interface AlterInboundRequest {
  tag: string
  operation: TypedMessage | null
}

const emptyMessage = Buffer.alloc(0)

function writeStat(writer: ProtoWriter, field: number, stat: WireStat): void {
  writer.message(field, (inner) => {
    inner.string(1, stat.name)
    if (typeof stat.value === 'bigint') inner.int64Big(2, stat.value)
    else inner.uint(2, stat.value)
  })
}

/** Reads a Stat ending at `end` in place: no sub-reader per entry, which matters at 200k entries. */
function readStat(reader: ProtoReader, end: number): DecodedStat {
  let name = ''
  let value = 0
  while (reader.pos < end) {
    const tag = reader.tag()
    switch (tag) {
      case (1 << 3) | WireType.lengthDelimited: {
        name = reader.string()
        break
      }
      case (2 << 3) | WireType.varint: {
        try {
          value = reader.safeInteger()
        } catch (error) {
          if (error instanceof WireRangeError) {
            throw new WireRangeError(`counter "${name}" holds ${error.message}`, error.value)
          }
          throw error
        }
        break
      }
      default: {
        if (fieldOf(tag) <= 2) throw new WireFormatError(`stat field ${fieldOf(tag)} has wire type ${wireTypeOf(tag)}`)
        reader.skip(wireTypeOf(tag))
      }
    }
  }
  if (reader.pos !== end) throw new WireFormatError('stat runs past its length')
  return {name, value}
}

export function encodeQueryStatsRequest(request: StatsRequest): Buffer {
  return new ProtoWriter(64).string(1, request.pattern).bool(2, request.reset).finish()
}

/** Reads `pattern`/`reset`; sing-box's extra `patterns`/`regexp` fields are skipped. */
export function decodeQueryStatsRequest(bytes: Uint8Array): StatsRequest {
  const reader = new ProtoReader(bytes)
  const request: StatsRequest = {pattern: '', reset: false}
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((1 << 3) | WireType.lengthDelimited)) request.pattern = reader.string()
    else if (tag === ((2 << 3) | WireType.varint)) request.reset = reader.bool()
    else reader.skip(wireTypeOf(tag))
  }
  return request
}

export function encodeQueryStatsResponse(stats: Iterable<WireStat>, sizeHint = 1024): Buffer {
  const writer = new ProtoWriter(sizeHint)
  for (const stat of stats) writeStat(writer, 1, stat)
  return writer.finish()
}

/** The hot path: a 100k-user reply is ~8 MB of 200k entries, decoded in one pass. */
export function decodeQueryStatsResponse(bytes: Uint8Array): DecodedStat[] {
  const reader = new ProtoReader(bytes)
  const stats: DecodedStat[] = []
  while (!reader.done) {
    const tag = reader.tag()
    if (fieldOf(tag) === 1) {
      expectWireType(tag, WireType.lengthDelimited, 'QueryStatsResponse.stat')
      stats.push(readStat(reader, reader.lengthDelimitedEnd()))
    } else {
      reader.skip(wireTypeOf(tag))
    }
  }
  return stats
}

export function encodeGetStatsRequest(request: GetStatsRequest): Buffer {
  return new ProtoWriter(64).string(1, request.name).bool(2, request.reset).finish()
}

export function decodeGetStatsRequest(bytes: Uint8Array): GetStatsRequest {
  const {pattern, reset} = decodeQueryStatsRequest(bytes)
  return {name: pattern, reset}
}

export function encodeGetStatsResponse(stat: WireStat | null): Buffer {
  const writer = new ProtoWriter(64)
  if (stat !== null) writeStat(writer, 1, stat)
  return writer.finish()
}

export function decodeGetStatsResponse(bytes: Uint8Array): DecodedStat | null {
  const reader = new ProtoReader(bytes)
  let stat: DecodedStat | null = null
  while (!reader.done) {
    const tag = reader.tag()
    if (fieldOf(tag) === 1) {
      expectWireType(tag, WireType.lengthDelimited, 'GetStatsResponse.stat')
      stat = readStat(reader, reader.lengthDelimitedEnd())
    } else {
      reader.skip(wireTypeOf(tag))
    }
  }
  return stat
}

export function encodeSysStatsRequest(): Buffer {
  return emptyMessage
}

export interface SysStats {
  numGoroutine: number
  uptimeSeconds: number
}

export function encodeSysStatsResponse(stats: SysStats): Buffer {
  return new ProtoWriter(32).uint(1, stats.numGoroutine).uint(10, stats.uptimeSeconds).finish()
}

export function decodeSysStatsResponse(bytes: Uint8Array): SysStats {
  const reader = new ProtoReader(bytes)
  const stats: SysStats = {numGoroutine: 0, uptimeSeconds: 0}
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((1 << 3) | WireType.varint)) stats.numGoroutine = reader.uint32()
    else if (tag === ((10 << 3) | WireType.varint)) stats.uptimeSeconds = reader.uint32()
    else if (fieldOf(tag) === 1 || fieldOf(tag) === 10)
      throw new WireFormatError('SysStatsResponse has a malformed field')
    else reader.skip(wireTypeOf(tag))
  }
  return stats
}

function writeTypedMessage(writer: ProtoWriter, field: number, message: TypedMessage): void {
  writer.message(field, (inner) => {
    inner.string(1, message.type)
    inner.bytes(2, message.value)
  })
}

export function decodeTypedMessage(reader: ProtoReader): TypedMessage {
  const message: TypedMessage = {type: '', value: emptyMessage}
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((1 << 3) | WireType.lengthDelimited)) message.type = reader.string()
    else if (tag === ((2 << 3) | WireType.lengthDelimited)) message.value = reader.bytesField()
    else reader.skip(wireTypeOf(tag))
  }
  return message
}

export function encodeAlterInboundRequest(request: {tag: string; operation: TypedMessage}): Buffer {
  const writer = new ProtoWriter(256).string(1, request.tag)
  writeTypedMessage(writer, 2, request.operation)
  return writer.finish()
}

export function decodeAlterInboundRequest(bytes: Uint8Array): AlterInboundRequest {
  const reader = new ProtoReader(bytes)
  const request: AlterInboundRequest = {tag: '', operation: null}
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((1 << 3) | WireType.lengthDelimited)) request.tag = reader.string()
    else if (tag === ((2 << 3) | WireType.lengthDelimited)) request.operation = decodeTypedMessage(reader.message())
    else reader.skip(wireTypeOf(tag))
  }
  return request
}

/** `AddUserOperation { User user = 1 }` with `User { uint32 level = 1; string email = 2; TypedMessage account = 3 }`. */
export function encodeAddUserOperation(user: {level: number; email: string; account: TypedMessage}): Buffer {
  const writer = new ProtoWriter(256)
  writer.message(1, (inner) => {
    inner.uint(1, user.level)
    inner.string(2, user.email)
    writeTypedMessage(inner, 3, user.account)
  })
  return writer.finish()
}

export function decodeAddUserOperation(bytes: Uint8Array): ProtocolUser | null {
  const reader = new ProtoReader(bytes)
  let user: ProtocolUser | null = null
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((1 << 3) | WireType.lengthDelimited)) user = decodeProtocolUser(reader.message())
    else reader.skip(wireTypeOf(tag))
  }
  return user
}

function decodeProtocolUser(reader: ProtoReader): ProtocolUser {
  const user: ProtocolUser = {level: 0, email: '', account: null}
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((1 << 3) | WireType.varint)) user.level = reader.uint32()
    else if (tag === ((2 << 3) | WireType.lengthDelimited)) user.email = reader.string()
    else if (tag === ((3 << 3) | WireType.lengthDelimited)) user.account = decodeTypedMessage(reader.message())
    else reader.skip(wireTypeOf(tag))
  }
  return user
}

/** `RemoveUserOperation { string email = 1 }`. */
export function encodeRemoveUserOperation(email: string): Buffer {
  return new ProtoWriter(64).string(1, email).finish()
}

export function decodeRemoveUserOperation(bytes: Uint8Array): string {
  return decodeSingleString(bytes, 1)
}

/** Account messages are flat: strings and small integers by field number, enough for the stub to check them. */
export function decodeFlatFields(bytes: Uint8Array): Map<number, string | number> {
  const reader = new ProtoReader(bytes)
  const fields = new Map<number, string | number>()
  while (!reader.done) {
    const tag = reader.tag()
    const wireType = wireTypeOf(tag)
    if (wireType === WireType.lengthDelimited) fields.set(fieldOf(tag), reader.string())
    else if (wireType === WireType.varint) fields.set(fieldOf(tag), reader.safeInteger())
    else reader.skip(wireType)
  }
  return fields
}

function decodeSingleString(bytes: Uint8Array, field: number): string {
  const reader = new ProtoReader(bytes)
  let value = ''
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((field << 3) | WireType.lengthDelimited)) value = reader.string()
    else reader.skip(wireTypeOf(tag))
  }
  return value
}

/** Xray's `GetStatsOnlineIpListResponse { string name = 1; map<string, int64> ips = 2 }`. */
export function encodeOnlineIpListResponse(name: string, ips: ReadonlyMap<string, number>): Buffer {
  const writer = new ProtoWriter(128).string(1, name)
  for (const [ip, lastSeen] of ips) {
    writer.message(2, (entry) => {
      entry.string(1, ip)
      entry.uint(2, lastSeen)
    })
  }
  return writer.finish()
}

export function decodeOnlineIpListResponse(bytes: Uint8Array): Map<string, number> {
  const reader = new ProtoReader(bytes)
  const ips = new Map<string, number>()
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((2 << 3) | WireType.lengthDelimited)) {
      const entry = reader.message()
      let ip = ''
      let lastSeen = 0
      while (!entry.done) {
        const entryTag = entry.tag()
        if (entryTag === ((1 << 3) | WireType.lengthDelimited)) ip = entry.string()
        else if (entryTag === ((2 << 3) | WireType.varint)) lastSeen = entry.safeInteger()
        else entry.skip(wireTypeOf(entryTag))
      }
      ips.set(ip, lastSeen)
    } else {
      reader.skip(wireTypeOf(tag))
    }
  }
  return ips
}

/** Xray's `GetInboundUserRequest { string tag = 1; string email = 2 }`; an empty email asks for every user. */
export function encodeGetInboundUserRequest(request: {tag: string; email: string}): Buffer {
  return new ProtoWriter(64).string(1, request.tag).string(2, request.email).finish()
}

export function decodeGetInboundUserRequest(bytes: Uint8Array): {tag: string; email: string} {
  const reader = new ProtoReader(bytes)
  const request = {tag: '', email: ''}
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((1 << 3) | WireType.lengthDelimited)) request.tag = reader.string()
    else if (tag === ((2 << 3) | WireType.lengthDelimited)) request.email = reader.string()
    else reader.skip(wireTypeOf(tag))
  }
  return request
}

/** Xray's `GetInboundUserResponse { repeated xray.common.protocol.User users = 1 }`. */
export function encodeGetInboundUserResponse(users: Iterable<ProtocolUser>): Buffer {
  const writer = new ProtoWriter(1024)
  for (const user of users) {
    writer.message(1, (inner) => {
      inner.uint(1, user.level)
      inner.string(2, user.email)
      if (user.account !== null) writeTypedMessage(inner, 3, user.account)
    })
  }
  return writer.finish()
}

export function decodeGetInboundUserResponse(bytes: Uint8Array): ProtocolUser[] {
  const reader = new ProtoReader(bytes)
  const users: ProtocolUser[] = []
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((1 << 3) | WireType.lengthDelimited)) users.push(decodeProtocolUser(reader.message()))
    else reader.skip(wireTypeOf(tag))
  }
  return users
}

/** Xray's `GetInboundUsersCountResponse { int64 count = 1 }`. */
export function encodeGetInboundUsersCountResponse(count: number): Buffer {
  return new ProtoWriter(16).uint(1, count).finish()
}

export function decodeGetInboundUsersCountResponse(bytes: Uint8Array): number {
  const reader = new ProtoReader(bytes)
  let count = 0
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((1 << 3) | WireType.varint)) count = reader.safeInteger()
    else reader.skip(wireTypeOf(tag))
  }
  return count
}

/** Xray's `GetUsersStatsRequest { bool include_traffic = 1; bool reset = 2 }`. */
export function encodeGetUsersStatsRequest(request: {includeTraffic: boolean; reset: boolean}): Buffer {
  return new ProtoWriter(8).bool(1, request.includeTraffic).bool(2, request.reset).finish()
}

export function decodeGetUsersStatsRequest(bytes: Uint8Array): {includeTraffic: boolean; reset: boolean} {
  const reader = new ProtoReader(bytes)
  const request = {includeTraffic: false, reset: false}
  while (!reader.done) {
    const tag = reader.tag()
    if (tag === ((1 << 3) | WireType.varint)) request.includeTraffic = reader.bool()
    else if (tag === ((2 << 3) | WireType.varint)) request.reset = reader.bool()
    else reader.skip(wireTypeOf(tag))
  }
  return request
}

/** One user of Xray's GetUsersStats reply: the IPs online now, each with its last-seen unix time in seconds. */
export interface UserOnlineStat {
  email: string
  ips: Map<string, number>
  traffic: {uplink: number; downlink: number} | null
}

/**
 * Xray's `GetUsersStatsResponse { repeated UserStat users = 1 }` with `UserStat { string email = 1;
 * repeated OnlineIPEntry ips = 2; TrafficUserStat traffic = 3 }`, `OnlineIPEntry { string ip = 1; int64 last_seen = 2 }`
 * and `TrafficUserStat { int64 uplink = 1; int64 downlink = 2 }`.
 */
export function encodeGetUsersStatsResponse(users: Iterable<UserOnlineStat>): Buffer {
  const writer = new ProtoWriter(1024)
  for (const user of users) {
    writer.message(1, (stat) => {
      stat.string(1, user.email)
      for (const [ip, lastSeen] of user.ips) {
        stat.message(2, (entry) => {
          entry.string(1, ip)
          entry.uint(2, lastSeen)
        })
      }
      const traffic = user.traffic
      if (traffic !== null) {
        stat.message(3, (inner) => {
          inner.uint(1, traffic.uplink)
          inner.uint(2, traffic.downlink)
        })
      }
    })
  }
  return writer.finish()
}

export function decodeGetUsersStatsResponse(bytes: Uint8Array): UserOnlineStat[] {
  const reader = new ProtoReader(bytes)
  const users: UserOnlineStat[] = []
  while (!reader.done) {
    const tag = reader.tag()
    if (tag !== ((1 << 3) | WireType.lengthDelimited)) {
      reader.skip(wireTypeOf(tag))
      continue
    }
    const stat = reader.message()
    const user: UserOnlineStat = {email: '', ips: new Map(), traffic: null}
    while (!stat.done) {
      const statTag = stat.tag()
      if (statTag === ((1 << 3) | WireType.lengthDelimited)) user.email = stat.string()
      else if (statTag === ((2 << 3) | WireType.lengthDelimited)) {
        const entry = stat.message()
        let ip = ''
        let lastSeen = 0
        while (!entry.done) {
          const entryTag = entry.tag()
          if (entryTag === ((1 << 3) | WireType.lengthDelimited)) ip = entry.string()
          else if (entryTag === ((2 << 3) | WireType.varint)) lastSeen = entry.safeInteger()
          else entry.skip(wireTypeOf(entryTag))
        }
        user.ips.set(ip, lastSeen)
      } else if (statTag === ((3 << 3) | WireType.lengthDelimited)) {
        const inner = stat.message()
        const traffic = {uplink: 0, downlink: 0}
        while (!inner.done) {
          const innerTag = inner.tag()
          if (innerTag === ((1 << 3) | WireType.varint)) traffic.uplink = inner.safeInteger()
          else if (innerTag === ((2 << 3) | WireType.varint)) traffic.downlink = inner.safeInteger()
          else inner.skip(wireTypeOf(innerTag))
        }
        user.traffic = traffic
      } else stat.skip(wireTypeOf(statTag))
    }
    users.push(user)
  }
  return users
}
