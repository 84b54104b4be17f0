import type {Generated, Insertable, Selectable, Updateable} from 'kysely'

import type {ChannelType} from '../domain/alert-channel.js'
import type {Actor, UserStatus} from '../domain/user.js'

export {channelTypes, type ChannelType} from '../domain/alert-channel.js'
export {userStatuses, type Actor, type UserStatus} from '../domain/user.js'

export interface SettingsTable {
  key: string
  value: string
}

export interface PlansTable {
  id: Generated<number>
  name: string
  monthly_quota: number
  total_quota: number
  reset_day: number
  max_ips: number | null
  created_at: number
  /** A JSON list of inbound tags its users get; null: every managed inbound. */
  inbounds: Generated<string | null>
  /** Its reset rule as text (domain/reset-rules.ts); null (older rows): monthly on reset_day. */
  reset: Generated<string | null>
}

export interface UsersTable {
  id: Generated<number>
  name: string
  status: UserStatus
  status_reason: string | null
  plan_id: number | null
  monthly_quota: number | null
  total_quota: number | null
  reset_day: number | null
  max_ips: number | null
  expires_at: number | null
  note: string | null
  uuid: string
  password: string
  password16: string
  created_at: number
  updated_at: number
  /** A JSON list of inbound tags, `*` for every inbound; null: the plan's choice. */
  inbounds: Generated<string | null>
  /** The user's own reset rule as text (domain/reset-rules.ts); null: the plan's. reset_day is no longer read. */
  reset: Generated<string | null>
  /** A first-use expiry's duration as typed, until the first byte (or first_use_by) sets expires_at. */
  expires_after: Generated<string | null>
  first_use_by: Generated<number | null>
}

/** A user's subscription token (`/sub/<token>`): kept to show the URL again, matched by its sha256. */
export interface SubscriptionTokensTable {
  user_id: number
  token: string
  token_hash: string
  created_at: number
}

export interface UserUsageTable {
  user_id: number
  period_start: number
  period_end: number
  /** Billed bytes (raw bytes times each node's ratio): what quotas count. */
  period_up: number
  period_down: number
  total_up: number
  total_down: number
  /** The bytes the nodes counted, before their ratios (migration 0016). */
  raw_period_up: Generated<number>
  raw_period_down: Generated<number>
  raw_total_up: Generated<number>
  raw_total_down: Generated<number>
  updated_at: number
}

export interface TopupsTable {
  id: Generated<number>
  user_id: number
  period_start: number
  bytes: number
  note: string | null
  actor: Actor
  created_at: number
}

/** Bytes bought apart from any period (migration 0019): spent after the allowance, until used up or valid_until. */
export interface TrafficPackagesTable {
  id: Generated<number>
  user_id: number
  bytes: number
  used: Generated<number>
  valid_until: number
  note: string | null
  actor: Actor
  created_at: number
  /** When the last byte was spent; null while some is left (the open-package index finds those). */
  used_up_at: Generated<number | null>
}

export interface EventsTable {
  id: Generated<number>
  at: number
  user_name: string
  kind: string
  from_status: UserStatus | null
  to_status: UserStatus | null
  reason: string | null
  actor: Actor
}

export interface NodesTable {
  id: Generated<number>
  name: string
  /** A proxy driver's type (src/lib/proxies/registry.ts); the database knows no driver. */
  type: string
  api: string
  config_path: string | null
  inbounds: string | null
  apply_command: string | null
  created_at: number
  last_pull_at: number | null
  last_error: string | null
  cut_sessions: Generated<number>
  synced_at: number | null
  token_hash: Generated<string | null>
  public_url: Generated<string | null>
  panel_url: Generated<string | null>
  panel_user: Generated<string | null>
  panel_password: Generated<string | null>
  inform_url: Generated<string | null>
  counted_up: Generated<number>
  counted_down: Generated<number>
  refused_reports: Generated<number>
  refused_names: Generated<number>
  last_refused_at: Generated<number | null>
  last_refusal_status: Generated<number | null>
  last_refusal_reason: Generated<string | null>
  last_refusal_bytes: Generated<number | null>
  /** HOST or HOST:PORT clients dial, for share links; null until `node add/set --public-host`. */
  public_host: Generated<string | null>
  /** Bytes billed per byte counted, in ten-thousandths (src/lib/domain/billing-ratio.ts); 10000 bills each byte once. */
  ratio_ten_thousandths: Generated<number>
  /** The host network interface whose bytes the node's counted traffic is compared with (drift); null: none. */
  host_interface: Generated<string | null>
  /** That interface's counters at the last pull; null until a pull read them. */
  interface_rx: Generated<number | null>
  interface_tx: Generated<number | null>
  interface_read_at: Generated<number | null>
}

/** Per node and local day: what its host interface carried and what the node counted, over the same pulls. */
export interface InterfaceDailyTable {
  node_id: number
  day: string
  interface_bytes: number
  counted_bytes: number
  /** When the day was first found drifting; null while it was not. */
  warned_at: number | null
}

export interface NodeUsersTable {
  node_id: number
  user_name: string
}

export interface LocksTable {
  name: string
  pid: number
  host: string
  acquired_at: number
}

export interface NodeBaselinesTable {
  node_id: number
  taken_at: number
  uptime_seconds: number | null
  counters: string
}

export interface UsageDailyTable {
  day: string
  node_name: string
  user_name: string
  /** Billed bytes; raw_up/raw_down are what the node counted (equal at ratio 1). */
  up: number
  down: number
  raw_up: number
  raw_down: number
}

export interface UnmanagedUsageDailyTable {
  day: string
  node_name: string
  name: string
  up: number
  down: number
}

/** What `sbq prune` folds a month's daily rows into (migration 0004): a month's usage is its rollup rows plus its daily rows. */
export interface UsageMonthlyTable {
  month: string
  node_name: string
  user_name: string
  /** Billed bytes; raw_up/raw_down are what the node counted (equal at ratio 1). */
  up: number
  down: number
  raw_up: number
  raw_down: number
}

export interface UnmanagedUsageMonthlyTable {
  month: string
  node_name: string
  name: string
  up: number
  down: number
}

/** Per month, the daily rows of closed days summed (see migration 0007): what month reports read. */
export interface UsageClosedMonthlyTable {
  month: string
  user_name: string
  node_name: string
  /** Billed bytes; raw_up/raw_down are what the node counted (equal at ratio 1). */
  up: number
  down: number
  raw_up: number
  raw_down: number
}

export interface UsageClosedThroughTable {
  id: number
  day: string
}

export interface InboundUsageDailyTable {
  day: string
  node_name: string
  tag: string
  up: number
  down: number
}

export interface InformOutboxTable {
  id: Generated<number>
  node_id: number
  request_id: string
  body: string
  created_at: number
  attempts: Generated<number>
  last_error: string | null
}

export interface InformReceiptsTable {
  node_id: number
  request_id: string
  received_at: number
}

export interface AlertChannelsTable {
  id: Generated<number>
  type: ChannelType
  target: string
  secret: string | null
  created_at: number
}

export interface AlertsTable {
  id: Generated<number>
  user_name: string
  kind: string
  threshold: number
  occasion: number
  period_start: number
  period_used: number
  allowance: number
  expires_at: number | null
  at: number
  text: string
}

export interface AlertOutboxTable {
  alert_id: number
  channel_id: number
  attempts: number
  last_error: string | null
  last_attempt_at: number | null
  claimed_until: number | null
  delivered_at: number | null
  failed_at: number | null
}

export interface WebSessionsTable {
  id_hash: string
  csrf_token: string
  created_at: number
  last_seen_at: number
  expires_at: number
  flash: string | null
}

export interface Database {
  settings: SettingsTable
  plans: PlansTable
  users: UsersTable
  user_usage: UserUsageTable
  subscription_tokens: SubscriptionTokensTable
  topups: TopupsTable
  traffic_packages: TrafficPackagesTable
  events: EventsTable
  nodes: NodesTable
  node_baselines: NodeBaselinesTable
  interface_daily: InterfaceDailyTable
  usage_daily: UsageDailyTable
  unmanaged_usage_daily: UnmanagedUsageDailyTable
  usage_monthly: UsageMonthlyTable
  unmanaged_usage_monthly: UnmanagedUsageMonthlyTable
  usage_closed_monthly: UsageClosedMonthlyTable
  usage_closed_through: UsageClosedThroughTable
  node_users: NodeUsersTable
  locks: LocksTable
  alert_channels: AlertChannelsTable
  alerts: AlertsTable
  alert_outbox: AlertOutboxTable
  inbound_usage_daily: InboundUsageDailyTable
  inform_outbox: InformOutboxTable
  inform_receipts: InformReceiptsTable
  web_sessions: WebSessionsTable
}

export type PlanRow = Selectable<PlansTable>
export type UserRow = Selectable<UsersTable>
export type NewUser = Insertable<UsersTable>
export type UserUpdate = Updateable<UsersTable>
export type UsageRow = Selectable<UserUsageTable>
export type TopupRow = Selectable<TopupsTable>
export type TrafficPackageRow = Selectable<TrafficPackagesTable>
export type EventRow = Selectable<EventsTable>
export type NewEvent = Insertable<EventsTable>
export type NodeRow = Selectable<NodesTable>
export type InterfaceDayRow = Selectable<InterfaceDailyTable>
export type WebSessionRow = Selectable<WebSessionsTable>
export type LockRow = Selectable<LocksTable>
export type InformPushRow = Selectable<InformOutboxTable>
export type ChannelRow = Selectable<AlertChannelsTable>
export type AlertRow = Selectable<AlertsTable>
