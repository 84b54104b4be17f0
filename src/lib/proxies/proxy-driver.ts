/**
 * The contract of this folder: what a proxy type can do for sbq, asked for as capabilities, never by type name.
 *
 * One folder per node type beside this file implements `ProxyDriver` (xray/, v2ray/, sing-box/, sing-box-ssm/,
 * 3x-ui/) and is registered by one line in `registry.ts`; `shared/` holds what several of them speak (the V2Ray-family
 * gRPC API, the Xray and sing-box config formats, the user-list rules). Nothing outside this folder asks which type a
 * node is: services ask the node's driver whether it can do a thing, and ask it to do it.
 *
 * Drivers do I/O only: they translate between a proxy's API or config file and these plain shapes. Deciding what a
 * counter means (baselines, restarts, deltas) is the accounting's job, and who must be on a node is enforcement's.
 */

export type {CounterLifetime, CounterSample, ManagedUser, StatsSnapshot, UserCredentials} from '../domain/traffic.js'
import type {CounterLifetime, ManagedUser, StatsSnapshot, UserCredentials} from '../domain/traffic.js'
import type {ShareInbound} from '../domain/share-links.js'

/** Protocols whose users can be added and removed live through Xray/V2Ray's HandlerService. */
export type LiveProtocol = 'vmess' | 'vless' | 'trojan' | 'shadowsocks' | 'hysteria'

export interface InboundTarget {
  tag: string
  protocol: LiveProtocol
  /** vless only: the flow to give new users (e.g. `xtls-rprx-vision`), empty for none. */
  flow?: string
  /** shadowsocks 2022 only: the inbound's method, to pick the key length. */
  method?: string
}

/** Who a proxy must (present, with these credentials) and must not (absent) have after a change. */
export interface ExpectedUsers {
  present: readonly ManagedUser[]
  absent: readonly string[]
}

export interface ProxyApi {
  readonly counterLifetime: CounterLifetime
  readStats(): Promise<StatsSnapshot>
  /**
   * Live user changes; absent where the proxy has no such API (sing-box v2ray_api). `level` is the Xray/V2Ray user
   * level (which `policy.levels` entry applies), 0 when not given.
   */
  addUser?(inbound: InboundTarget, user: ManagedUser, level?: number): Promise<void>
  removeUser?(inbound: InboundTarget, name: string): Promise<void>
  /**
   * Reads the user list back after a change, where the proxy can list its users, and fails as the node's error when
   * a removal or an add did not take: an answer to each call is no proof (a 404 to a delete may be a wrong name).
   */
  confirmUsers?(inbound: InboundTarget, expected: ExpectedUsers): Promise<void>
  /** The IPs seen for a user, each with its last-seen unix time (seconds); only where the proxy tracks them (Xray). */
  onlineIps?(name: string): Promise<Map<string, number>>
  /**
   * Every user online now with their IPs, in one call (Xray's GetUsersStats, which lists only users with an IP); null
   * where the proxy lacks the call, and the caller asks `onlineIps` user by user instead.
   */
  allOnlineIps?(): Promise<Map<string, Map<string, number>> | null>
  close(): void
}

/** A node's stored settings, as a driver needs them (the database row has these fields and more). */
export interface ProxyNode {
  name: string
  type: string
  /** The API address: HOST:PORT (gRPC) or a URL (SSM); empty for a node that reports by itself. */
  api: string
  config_path: string | null
  /** The managed inbound tags as stored (a JSON array), or null for every inbound with users. */
  inbounds: string | null
  apply_command: string | null
  /** 1: restart the proxy after a removal to end open connections (Xray, V2Ray); types that cannot ignore it. */
  cut_sessions: number
  panel_url: string | null
  panel_user: string | null
  panel_password: string | null
}

/** One inbound a node serves a user on, with the user's credentials there; or why it gives no link. */
export type NodeShareInbound =
  {inbound: ShareInbound; credentials: Partial<UserCredentials>} | {tag: string; protocol: string; reason: string}

/** A user as found in one inbound of a config file: only the credential fields that inbound's protocol carries. */
export interface ImportedUser {
  name: string
  credentials: Partial<UserCredentials>
}

/** A managed inbound as the node's config file describes it: what protocol it speaks and who is on it. */
export interface ConfigInbound {
  tag: string
  protocol: string
  method?: string
  flow?: string
  users: ImportedUser[]
}

/** One change to a node's users: the difference from what sbq last applied there, and the whole desired set. */
export interface UserChange {
  node: ProxyNode
  added: ManagedUser[]
  removed: string[]
  /** Every active user, with credentials: exactly who the managed inbounds must carry. */
  active: ManagedUser[]
  /** Every name sbq manages; the proxy's other users are never touched. */
  managed: ReadonlySet<string>
}

/** What the enforcement lends a driver while it changes a node. */
export interface ChangeHost {
  /** Bills the node's counters now: called before anything that may zero them (a reload, a restart, a removal). */
  pullNode(): Promise<void>
  /** Run the proxy's checker even on a config the proxy does not load now (see SyncOptions.validateAlways). */
  validateAlways: boolean
}

export interface ChangeOutcome {
  /**
   * How: live (API), live+restart (--cut-sessions), config+reload, config+restart (fallback), api (SSM), panel (3x-ui
   * panel API), report-only (nothing could be changed; `warning` tells the operator what to do), none.
   */
  method: string
  warning?: string | null
}

/** A panel's address and login, as `node add --panel-url --panel-user --panel-password` give them. */
export interface PanelLogin {
  url: string
  user: string
  password: string
}

/** What `sbq node test` learns by reaching a node once. */
export interface NodeProbe {
  uptime: number | null
  userCounters: number
  users: number
  liveUserChanges: boolean
  onlineIps: boolean
}

/**
 * How a node's traffic reaches sbq. `pulled`: sbq reads the proxy's counters through `connect` (stats pull, check).
 * `pushed`: the node posts its own traffic to `sbq serve` and holds no API sbq reads (3x-ui's External Traffic Inform).
 */
export type TrafficSource = 'pulled' | 'pushed'

export interface ProxyDriver {
  /** The node type this driver serves, as `node add --type` takes it and the database stores it. */
  readonly type: string
  readonly traffic: TrafficSource
  /** What makes the proxy take a new config when the operator gives no --apply; null where no config is rewritten. */
  readonly defaultApplyCommand: string | null
  /** Whether `countOnlineIps` can ask this type for a user's online IPs (max-ips enforcement). */
  readonly onlineIps: boolean
  /** Opens the proxy's API (pulled types only). Throws exit 4 when it cannot be reached. */
  connect?(node: Pick<ProxyNode, 'name' | 'api'>, timeoutMs?: number): Promise<ProxyApi>
  /**
   * Reads the inbounds sbq manages from a config file of this type; absent where users are not kept in a config file
   * sbq reads. Throws INBOUND_NOT_FOUND for a tag the file lacks.
   */
  readConfigInbounds?(text: string, source: string, inbounds: readonly string[] | undefined): ConfigInbound[]
  /**
   * The managed inbounds of a config file as clients must be told of them, for share links; absent where sbq cannot
   * yet build links for the type. Throws INBOUND_NOT_FOUND as readConfigInbounds does. `api` is the node's API address,
   * for types whose API picks the inbound (sing-box SSM).
   */
  readShareInbounds?(text: string, source: string, inbounds: readonly string[] | undefined, api: string): ShareInbound[]
  /**
   * For types whose node holds each user's credentials itself (a 3x-ui panel's clients): the inbounds it serves the
   * user on, as clients must be told of them, each with the credentials the node has for the user, or the reason an
   * inbound gives no link. Throws exit 4 when the node cannot be reached.
   */
  nodeShareInbounds?(node: ProxyNode, user: string): Promise<NodeShareInbound[]>
  /**
   * Puts the change on the node by whatever means the type has: a live API applies the difference (`removed`,
   * `added`), a config rewrite writes exactly `active` among the managed names. A user put on a proxy behind sbq's
   * back is removed at the next full sync (`sbq node sync`), or when the rewritten config is next loaded.
   */
  applyUsers(change: UserChange, host: ChangeHost): Promise<ChangeOutcome>
  /**
   * Whether the node has lost users sbq applied without sbq changing anything (sing-box SSM without a cache file
   * forgets them at a restart), so the next change must push everything; absent where that cannot happen.
   */
  lostUsers?(
    node: ProxyNode,
    applied: ReadonlySet<string>,
    /** The inbound choices of users who have one (see ManagedUser.inbounds); everyone else may be on every inbound. */
    choices: ReadonlyMap<string, readonly string[] | null>,
  ): Promise<boolean>
  /** Logs in to the node's panel once, to refuse a wrong login at `node add` (exit 4); where a panel switches users. */
  checkPanelLogin?(login: PanelLogin): Promise<void>
  /** Reaches the node once and says what it can do. Throws exit 4 when it cannot be reached, exit 2 when it has no way in. */
  probe(node: ProxyNode): Promise<NodeProbe>
  /**
   * At `node add`: a warning when what sbq can see of the node's build (a binary on PATH, its config) says it lacks
   * what this type meters with, naming what can be metered and what to do; null when nothing says so.
   */
  buildAdvice?(node: ProxyNode): Promise<string | null>
}
