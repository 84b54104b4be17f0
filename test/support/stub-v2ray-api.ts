/**
 * A stand-in for the Xray / V2Ray / sing-box gRPC API, for tests and benchmarks: StatsService (QueryStats with
 * substring patterns and reset, GetStats, GetSysStats, Xray's GetStatsOnlineIpList and GetUsersStats) and
 * HandlerService (AlterInbound with V2Ray's error texts, Xray's GetInboundUsers and GetInboundUsersCount). sing-box,
 * like the real one, has no HandlerService and ignores the query pattern.
 *
 * The Xray parts follow XTLS/Xray-core at commit 2323273e373f06b829b8c1cc0b4da149153e7358:
 * app/stats/command/command.go + command.proto (GetUsersStats lists only users whose online map holds an IP),
 * app/stats/online_map.go (AddIP never records 127.0.0.1 or [::1]), app/proxyman/command/command.go + command.proto
 * (GetInboundUsers with an empty email lists every user, with its level and account), common/protocol/user.go
 * (ToProtoUser keeps the level) and proxy/hysteria/account/config.proto (`Account { string auth = 1 }`).
 *
 * As a process: `node stub-v2ray-api.js --flavor v2ray --users 100000 [--grow BYTES]` prints `{"port":N}` and
 * serves until killed; with --grow every QueryStats first adds BYTES to each user counter.
 */
import * as grpc from '@grpc/grpc-js'
import {pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'
import {type V2rayFlavor, flavorNames, v2rayFlavors} from '../../src/lib/proxies/shared/v2ray-api/flavor.js'
import {
  type ProtocolUser,
  type UserOnlineStat,
  decodeAddUserOperation,
  decodeGetInboundUserRequest,
  decodeGetUsersStatsRequest,
  decodeAlterInboundRequest,
  decodeFlatFields,
  decodeGetStatsRequest,
  decodeQueryStatsRequest,
  decodeRemoveUserOperation,
  encodeGetInboundUserResponse,
  encodeGetInboundUsersCountResponse,
  encodeGetStatsResponse,
  encodeGetUsersStatsResponse,
  encodeOnlineIpListResponse,
  encodeQueryStatsResponse,
  encodeSysStatsResponse,
} from '../../src/lib/proxies/shared/v2ray-api/messages.js'

/** How the stub answers: properly, with bytes that are no valid reply, or never. */
export type StubMode = 'serve' | 'garbage' | 'silent'

export interface StubV2rayApiOptions {
  flavor: V2rayFlavor
  /** Creates `user1`..`userN` with uplink/downlink counters (see `seededUplink`/`seededDownlink`). */
  users?: number
  /** Bytes added to every user counter at the start of each QueryStats. */
  growBytes?: number
  /** Inbound tags AlterInbound accepts. */
  inboundTags?: string[]
  /**
   * Xray emulation: the one account type each listed inbound's handler takes. Xray casts an added user's account
   * unchecked (proxy/shadowsocks/validator.go Validator.Add, proxy/shadowsocks_2022/inbound_multi.go
   * MultiUserInbound.AddUser: `u.Account.(*MemoryAccount)`), and its gRPC server recovers no panic, so another type
   * ends the whole process: the stub then stops answering, as a dead Xray would.
   */
  accountTypes?: Record<string, string>
  /**
   * Methods the emulated proxy does not have and answers UNIMPLEMENTED to, e.g. `['GetInboundUsers', 'GetUsersStats']`
   * for an Xray before v24.11.5.
   */
  unimplemented?: string[]
}

export interface StubCall {
  method: string
  /** The decoded request, for asserting what the adapter sent (e.g. that reset stayed false). */
  request: unknown
}

export interface StubUser {
  email: string
  level: number
  accountType: string
  accountFields: Map<number, string | number>
  /** The account as sent, for GetInboundUsers to answer it back. */
  accountValue: Uint8Array
}

export function seededUplink(index: number): number {
  return index * 1000
}

export function seededDownlink(index: number): number {
  return index * 3000 + 7
}

type UnaryHandler = (request: Buffer) => Buffer

export class StubV2rayApi {
  readonly flavor: V2rayFlavor
  port = 0
  mode: StubMode = 'serve'
  growBytes: number
  readonly calls: StubCall[] = []
  /**
   * Counters by name; bigint where a test needs a value past 2^53. Boxed, with each name's encoding kept: a Go proxy
   * answers 200k counters in tens of milliseconds, and a stub much slower than that would bill its own time to the sbq
   * a benchmark measures.
   */
  private readonly counters = new Map<string, StubCounter>()
  /** Users per inbound tag, as AlterInbound left them. */
  readonly inbounds = new Map<string, Map<string, StubUser>>()
  /** Xray's online IP maps, keyed by user name. */
  readonly onlineIps = new Map<string, Map<string, number>>()
  private readonly server = new grpc.Server({'grpc.max_send_message_length': 512 * 1024 * 1024})
  private uptimeBase = 0
  private startedAt = Date.now()
  private readonly accountTypes: Readonly<Record<string, string>>
  /** Set when an AddUser of the wrong account type ended the emulated Xray. */
  crashed = false
  /**
   * TEST-ONLY fault, found in no real proxy: RemoveUser of these names answers success and keeps the user, so a test can
   * show that sbq reads the users back and reports a removal that did not take.
   */
  readonly removalsIgnored = new Set<string>()
  private readonly unimplemented: ReadonlySet<string>

  private constructor(options: StubV2rayApiOptions) {
    this.flavor = options.flavor
    this.accountTypes = options.accountTypes ?? {}
    this.unimplemented = new Set(options.unimplemented ?? [])
    this.growBytes = options.growBytes ?? 0
    for (const tag of options.inboundTags ?? ['vmess-in', 'vless-in', 'trojan-in', 'ss-in']) {
      this.inbounds.set(tag, new Map())
    }
    for (let index = 1; index <= (options.users ?? 0); index++) {
      this.setCounter(`user>>>user${index}>>>traffic>>>uplink`, seededUplink(index))
      this.setCounter(`user>>>user${index}>>>traffic>>>downlink`, seededDownlink(index))
    }
  }

  static async start(options: StubV2rayApiOptions): Promise<StubV2rayApi> {
    const stub = new StubV2rayApi(options)
    stub.register()
    stub.port = await new Promise<number>((resolve, reject) => {
      stub.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
        if (error) reject(error)
        else resolve(port)
      })
    })
    return stub
  }

  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  get uptimeSeconds(): number {
    return this.uptimeBase + Math.floor((Date.now() - this.startedAt) / 1000)
  }

  set uptimeSeconds(seconds: number) {
    this.uptimeBase = seconds
    this.startedAt = Date.now()
  }

  counter(name: string): number | bigint | undefined {
    return this.counters.get(name)?.value
  }

  setCounter(name: string, value: number | bigint): void {
    const counter = this.counters.get(name)
    if (counter === undefined)
      this.counters.set(name, {value, user: name.startsWith('user>>>'), encodedName: undefined})
    else counter.value = value
  }

  /** Every counter's value now, by name. */
  counterValues(): Map<string, number | bigint> {
    return new Map([...this.counters].map(([name, {value}]) => [name, value]))
  }

  deleteCounter(name: string): void {
    this.counters.delete(name)
  }

  /** Traffic by a user, as the proxy would count it. */
  addTraffic(user: string, uplink: number, downlink: number): void {
    for (const [direction, bytes] of [
      ['uplink', uplink],
      ['downlink', downlink],
    ] as const) {
      const name = `user>>>${user}>>>traffic>>>${direction}`
      this.setCounter(name, add(this.counter(name) ?? 0, bytes))
    }
  }

  /**
   * A connection from `ip` by `user`, as Xray's dispatcher tracks it with statsUserOnline: the user's online map is
   * made on the first one, and a loopback address is never recorded in it (app/stats/online_map.go AddIP).
   */
  seeConnection(user: string, ip: string, lastSeen = Math.floor(Date.now() / 1000)): void {
    const ips = this.onlineIps.get(user) ?? new Map<string, number>()
    this.onlineIps.set(user, ips)
    if (ip === '127.0.0.1' || ip === '[::1]') return
    ips.set(ip, lastSeen)
  }

  /**
   * The user counters QueryStats grows (by name), e.g. a tenth of the users for a benchmark of a server where only
   * some users are online; null: every user counter.
   */
  growing: ReadonlySet<string> | null = null

  /** Adds `bytes` to every user counter (only those in `growing` when it is set). */
  grow(bytes: number): void {
    for (const [name, counter] of this.counters)
      if (counter.user && (this.growing === null || this.growing.has(name))) counter.value = add(counter.value, bytes)
  }

  /** What a proxy restart looks like from the API: every counter back to zero, uptime from zero. */
  restart(): void {
    for (const counter of this.counters.values()) counter.value = 0
    this.uptimeSeconds = 0
  }

  async close(): Promise<void> {
    this.server.forceShutdown()
  }

  private register(): void {
    const names = flavorNames(this.flavor)
    const stats: Record<string, UnaryHandler> = {
      QueryStats: (request) => this.queryStats(request),
      GetStats: (request) => this.getStats(request),
      GetSysStats: () => encodeSysStatsResponse({numGoroutine: 8, uptimeSeconds: this.uptimeSeconds}),
    }
    const handler: Record<string, UnaryHandler> = {AlterInbound: (request) => this.alterInbound(request)}
    if (this.flavor === 'xray') {
      stats['GetStatsOnlineIpList'] = (request) => this.onlineIpList(request)
      stats['GetUsersStats'] = (request) => this.usersStats(request)
      handler['GetInboundUsers'] = (request) => this.inboundUsers(request)
      handler['GetInboundUsersCount'] = (request) => this.inboundUsersCount(request)
    }
    for (const method of this.unimplemented) {
      delete stats[method]
      delete handler[method]
    }
    this.addService(names.statsService, stats)
    if (names.handlerService !== null) this.addService(names.handlerService, handler)
  }

  private addService(service: string, handlers: Record<string, UnaryHandler>): void {
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {}
    const implementation: grpc.UntypedServiceImplementation = {}
    const identity = (bytes: Buffer): Buffer => bytes
    for (const [method, handle] of Object.entries(handlers)) {
      definition[method] = {
        path: `/${service}/${method}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      }
      const unary: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
        if (this.mode === 'silent') return
        if (this.mode === 'garbage') {
          // A length prefix far past the end: no message of any shape decodes from this.
          callback(null, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x7f, 0x01]))
          return
        }
        try {
          callback(null, handle(call.request))
        } catch (error) {
          if (error instanceof StubStatusError) callback({code: error.code, details: error.message})
          else callback({code: grpc.status.INTERNAL, details: String(error)})
        }
      }
      implementation[method] = unary
    }
    this.server.addService(definition, implementation)
  }

  private queryStats(bytes: Buffer): Buffer {
    const request = decodeQueryStatsRequest(bytes)
    this.calls.push({method: 'QueryStats', request})
    // sing-box reads only its own `patterns` field, so the V2Ray-style `pattern` never filters there.
    const pattern = this.flavor === 'sing-box' ? '' : request.pattern
    if (this.growBytes > 0) this.grow(this.growBytes)
    const matched: Array<[string, StubCounter]> = []
    let unusual = false
    for (const entry of this.counters) {
      if (!entry[0].includes(pattern)) continue
      matched.push(entry)
      // The hand-written encoder takes safe non-negative numbers; anything else goes through the general one.
      const value = entry[1].value
      if (typeof value === 'bigint' || !Number.isSafeInteger(value) || value < 0) unusual = true
    }
    const reply = unusual
      ? encodeQueryStatsResponse(
          matched.map(([name, {value}]) => ({name, value})),
          matched.length * 48 + 64,
        )
      : encodeStats(matched)
    if (request.reset) for (const [, counter] of matched) counter.value = 0
    return reply
  }

  private getStats(bytes: Buffer): Buffer {
    const request = decodeGetStatsRequest(bytes)
    this.calls.push({method: 'GetStats', request})
    const value = this.counter(request.name)
    if (value === undefined) {
      throw this.flavor === 'xray'
        ? new StubStatusError(grpc.status.NOT_FOUND, `${request.name} not found.`)
        : new StubStatusError(grpc.status.UNKNOWN, `app/stats/command: ${request.name} not found.`)
    }
    if (request.reset) this.setCounter(request.name, 0)
    return encodeGetStatsResponse({name: request.name, value})
  }

  private onlineIpList(bytes: Buffer): Buffer {
    const request = decodeGetStatsRequest(bytes)
    this.calls.push({method: 'GetStatsOnlineIpList', request})
    const user = /^user>>>(.*)>>>online$/.exec(request.name)?.[1]
    const ips = user === undefined ? undefined : this.onlineIps.get(user)
    if (ips === undefined) throw new StubStatusError(grpc.status.NOT_FOUND, `${request.name} not found.`)
    return encodeOnlineIpListResponse(request.name, ips)
  }

  /** Every user with at least one online IP; with include_traffic, their traffic counters too (reset as asked). */
  private usersStats(bytes: Buffer): Buffer {
    const request = decodeGetUsersStatsRequest(bytes)
    this.calls.push({method: 'GetUsersStats', request})
    const users: UserOnlineStat[] = []
    for (const [email, ips] of this.onlineIps) {
      if (ips.size === 0) continue
      let traffic: UserOnlineStat['traffic'] = null
      if (request.includeTraffic) {
        traffic = {uplink: 0, downlink: 0}
        for (const direction of ['uplink', 'downlink'] as const) {
          const name = `user>>>${email}>>>traffic>>>${direction}`
          const value = this.counter(name)
          if (value === undefined) continue
          traffic[direction] = Number(value)
          if (request.reset) this.setCounter(name, 0)
        }
      }
      users.push({email, ips: new Map(ips), traffic})
    }
    return encodeGetUsersStatsResponse(users)
  }

  private handlerUsers(tag: string): Map<string, StubUser> {
    const users = this.inbounds.get(tag)
    if (users === undefined) {
      throw new StubStatusError(
        grpc.status.UNKNOWN,
        `app/proxyman/command: failed to get handler: ${tag} > app/proxyman/inbound: handler not found: ${tag}`,
      )
    }
    return users
  }

  private inboundUsers(bytes: Buffer): Buffer {
    const request = decodeGetInboundUserRequest(bytes)
    this.calls.push({method: 'GetInboundUsers', request})
    const users = this.handlerUsers(request.tag)
    const asProto = (user: StubUser): ProtocolUser => ({
      level: user.level,
      email: user.email,
      account: {type: user.accountType, value: user.accountValue},
    })
    if (request.email !== '') {
      // GetUser finds no one: ToProtoUser(nil) is a nil element, which Go's protobuf writes as an empty User.
      const user = users.get(request.email)
      return encodeGetInboundUserResponse([user === undefined ? {level: 0, email: '', account: null} : asProto(user)])
    }
    return encodeGetInboundUserResponse([...users.values()].map(asProto))
  }

  private inboundUsersCount(bytes: Buffer): Buffer {
    const request = decodeGetInboundUserRequest(bytes)
    this.calls.push({method: 'GetInboundUsersCount', request})
    return encodeGetInboundUsersCountResponse(this.handlerUsers(request.tag).size)
  }

  private alterInbound(bytes: Buffer): Buffer {
    const request = decodeAlterInboundRequest(bytes)
    this.calls.push({method: 'AlterInbound', request})
    const prefix = `${flavorNames(this.flavor).typePrefix}app.proxyman.command.`
    const operationType = request.operation?.type ?? ''
    if (!operationType.startsWith(prefix)) {
      throw new StubStatusError(grpc.status.UNKNOWN, `app/proxyman/command: unknown operation > ${operationType}`)
    }
    const users = this.handlerUsers(request.tag)
    const operation = request.operation?.value ?? Buffer.alloc(0)
    if (operationType === `${prefix}AddUserOperation`) {
      const user = decodeAddUserOperation(operation)
      if (user === null || user.account === null) throw new StubStatusError(grpc.status.UNKNOWN, 'no user given')
      const takes = this.accountTypes[request.tag]
      if (takes !== undefined && user.account.type !== takes) this.crash()
      this.addInboundUser(users, user)
    } else if (operationType === `${prefix}RemoveUserOperation`) {
      const email = decodeRemoveUserOperation(operation)
      if (this.removalsIgnored.has(email) && users.has(email)) return Buffer.alloc(0)
      // proxy/hysteria/account/config.go DelByEmail answers nil whether or not it held the user.
      if (!users.delete(email) && this.accountTypes[request.tag] !== hysteriaAccount) {
        throw new StubStatusError(
          grpc.status.UNKNOWN,
          `app/proxyman/command: failed to remove user > proxy/vmess/inbound: User ${email} not found.`,
        )
      }
    } else {
      throw new StubStatusError(grpc.status.UNKNOWN, `app/proxyman/command: not an inbound operation`)
    }
    return Buffer.alloc(0)
  }

  /** A Go panic outside any recover: the process is gone, and with it every open connection. */
  private crash(): never {
    this.crashed = true
    this.server.forceShutdown()
    throw new StubStatusError(
      grpc.status.UNAVAILABLE,
      'panic: interface conversion: protocol.Account is not *MemoryAccount',
    )
  }

  private addInboundUser(users: Map<string, StubUser>, user: ProtocolUser): void {
    // proxy/hysteria/account/config.go Validator.Add stores over whatever it held: no "already exists" there.
    if (users.has(user.email) && user.account?.type !== hysteriaAccount) {
      throw new StubStatusError(
        grpc.status.UNKNOWN,
        `app/proxyman/command: failed to add user > proxy/vmess/inbound: User ${user.email} already exists.`,
      )
    }
    const account = user.account
    if (account === null) throw new StubStatusError(grpc.status.UNKNOWN, 'no account given')
    users.set(user.email, {
      email: user.email,
      level: user.level,
      accountType: account.type,
      accountFields: decodeFlatFields(account.value),
      accountValue: account.value,
    })
  }
}

const hysteriaAccount = 'xray.proxy.hysteria.account.Account'

class StubStatusError extends Error {
  readonly code: grpc.status

  constructor(code: grpc.status, details: string) {
    super(details)
    this.code = code
  }
}

interface StubCounter {
  value: number | bigint
  readonly user: boolean
  /** The Stat's name field as bytes, made at the first query that returns it. */
  encodedName: Buffer | undefined
}

/** The message encodeQueryStatsResponse writes, for counters whose values are all plain numbers. */
function encodeStats(counters: ReadonlyArray<[string, StubCounter]>): Buffer {
  let size = 0
  for (const [name, counter] of counters) {
    counter.encodedName ??=
      name === ''
        ? Buffer.alloc(0)
        : Buffer.concat([Buffer.from([0x0a]), varint(Buffer.byteLength(name)), Buffer.from(name, 'utf8')])
    size += counter.encodedName.length + 16
  }
  const out = Buffer.allocUnsafe(size)
  let offset = 0
  const writeVarint = (value: number): void => {
    while (value >= 0x80) {
      out[offset++] = (value % 0x80) | 0x80
      value = Math.floor(value / 0x80)
    }
    out[offset++] = value
  }
  for (const [, counter] of counters) {
    const value = counter.value as number
    const name = counter.encodedName!
    // Stat {name = 1; value = 2}: a zero value is left out, as protobuf does.
    out[offset++] = 0x0a
    writeVarint(name.length + (value === 0 ? 0 : 1 + varintLength(value)))
    offset += name.copy(out, offset)
    if (value !== 0) {
      out[offset++] = 0x10
      writeVarint(value)
    }
  }
  return out.subarray(0, offset)
}

function varint(value: number): Buffer {
  const bytes: number[] = []
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  bytes.push(value)
  return Buffer.from(bytes)
}

function varintLength(value: number): number {
  let length = 1
  while (value >= 0x80) {
    value = Math.floor(value / 0x80)
    length++
  }
  return length
}

function add(value: number | bigint, bytes: number): number | bigint {
  return typeof value === 'bigint' ? value + BigInt(bytes) : value + bytes
}

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      flavor: {type: 'string', default: 'v2ray'},
      users: {type: 'string', default: '0'},
      grow: {type: 'string', default: '0'},
    },
  })
  const flavor = values.flavor as V2rayFlavor
  if (!v2rayFlavors.includes(flavor)) throw new Error(`--flavor must be one of ${v2rayFlavors.join(', ')}`)
  const stub = await StubV2rayApi.start({flavor, users: Number(values.users), growBytes: Number(values.grow)})
  process.stdout.write(`${JSON.stringify({port: stub.port})}\n`)
  const stop = (): void => {
    void stub.close().then(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  })
}
