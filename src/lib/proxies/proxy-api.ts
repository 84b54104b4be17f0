/**
 * The contract every proxy adapter implements. One folder per backend beside this file
 * (v2ray-api/ for Xray, V2Ray and sing-box's v2ray_api over gRPC; sing-box-ssm/ for sing-box's SSM HTTP API).
 *
 * Adapters do I/O only: they translate between a proxy's wire API and these plain shapes. Deciding what a counter
 * means (baselines, restarts, deltas) is the accounting module's job.
 */

/** A cumulative counter as the proxy reports it, e.g. `user>>>alice>>>traffic>>>uplink`. */
export interface CounterSample {
  name: string
  /** Bytes since the proxy (re)started; always a safe non-negative integer. */
  value: number
}

export interface StatsSnapshot {
  counters: CounterSample[]
  /** Seconds since the proxy started, when the API tells; null when it cannot (sing-box SSM). */
  uptimeSeconds: number | null
}

/** The credentials sbq generated (or was given) for a user; each protocol takes the fields it needs. */
export interface UserCredentials {
  uuid: string
  /** Standard base64 of 32 random bytes: a trojan/hysteria2/naive password and a 2022-blake3-*-256 key. */
  password: string
  /** Standard base64 of 16 random bytes: a 2022-blake3-aes-128-gcm key. */
  password16: string
}

export interface ManagedUser {
  name: string
  credentials: UserCredentials
}

/** Protocols whose users can be added and removed live through Xray/V2Ray's HandlerService. */
export type LiveProtocol = 'vmess' | 'vless' | 'trojan' | 'shadowsocks'

export interface InboundTarget {
  tag: string
  protocol: LiveProtocol
  /** vless only: the flow to give new users (e.g. `xtls-rprx-vision`), empty for none. */
  flow?: string
  /** shadowsocks 2022 only: the inbound's method, to pick the key length. */
  method?: string
}

/**
 * How long the proxy keeps a counter. `process`: until the proxy restarts, so a counter that went down or vanished
 * means every counter started again (Xray, V2Ray, sing-box v2ray_api). `user`: until that user is removed, so a
 * removed and re-added user starts again at 0 while the others keep counting (sing-box SSM).
 */
export type CounterLifetime = 'process' | 'user'

/** Who a proxy must (present, with these credentials) and must not (absent) have after a change. */
export interface ExpectedUsers {
  present: readonly ManagedUser[]
  absent: readonly string[]
}

export interface ProxyApi {
  readonly counterLifetime: CounterLifetime
  readStats(): Promise<StatsSnapshot>
  /** Live user changes; absent where the proxy has no such API (sing-box v2ray_api). */
  addUser?(inbound: InboundTarget, user: ManagedUser): Promise<void>
  removeUser?(inbound: InboundTarget, name: string): Promise<void>
  /**
   * Reads the user list back after a change, where the proxy can list its users, and fails as the node's error when
   * a removal or an add did not take: an answer to each call is no proof (a 404 to a delete may be a wrong name).
   */
  confirmUsers?(inbound: InboundTarget, expected: ExpectedUsers): Promise<void>
  close(): void
}
