import type {Context} from '../context.js'
import {
  allChannels,
  channelSendingTo,
  deleteChannel,
  findChannel,
  insertChannel,
  undeliveredDeliveries,
} from '../db/alerts-repository.js'
import type {Db} from '../db/open-database.js'
import type {ChannelRow} from '../db/schema.js'
import {conflict, invalidInput, notFound} from '../errors.js'
import {channelTypes, type ChannelType} from '../domain/alert-channel.js'
import {maskSecret, maskUrl} from '../domain/mask-secrets.js'

export interface NewChannelInput {
  type: string
  url?: string
  secret?: string
  token?: string
  chat?: string
}

/** A channel as commands show it; the `--json` shape. The secret is masked: it never leaves the database whole. */
export interface ChannelView {
  id: number
  type: ChannelType
  target: string
  secret: string | null
  createdAt: string
  /** Alerts waiting for this channel, to be retried by the next check. */
  pending: number
  /** Alerts given up on after too many failed runs. */
  failed: number
  lastError: string | null
}

export async function addChannel(db: Db, input: NewChannelInput, context: Context): Promise<ChannelView> {
  const channel = validChannel(input)
  return db.transaction().execute(async (trx) => {
    const existing = await channelSendingTo(trx, channel.type, channel.target)
    if (existing) {
      throw conflict(
        'ALERT_CHANNEL_EXISTS',
        `alert channel ${existing.id} already sends to ${channel.type} "${shownTarget(channel)}"`,
        `remove it first to change it: sbq alert remove ${existing.id}`,
      )
    }
    const id = await insertChannel(trx, {...channel, created_at: context.now})
    return toView({id, ...channel, created_at: context.now}, undefined)
  })
}

export async function listChannels(db: Db): Promise<ChannelView[]> {
  const channels = await allChannels(db)
  const undelivered = await undeliveredDeliveries(db)
  const backlogs = new Map<number, Backlog>()
  for (const row of undelivered) {
    const backlog = backlogs.get(row.channel_id) ?? {pending: 0, failed: 0, lastError: null, lastAttemptAt: -1}
    if (row.failed_at === null) backlog.pending++
    else backlog.failed++
    if (row.last_error !== null && (row.last_attempt_at ?? 0) > backlog.lastAttemptAt) {
      backlog.lastError = row.last_error
      backlog.lastAttemptAt = row.last_attempt_at ?? 0
    }
    backlogs.set(row.channel_id, backlog)
  }
  return channels.map((channel) => toView(channel, backlogs.get(channel.id)))
}

export async function removeChannel(db: Db, id: string): Promise<{id: number; removed: true}> {
  const channel = await requireChannel(db, id)
  await deleteChannel(db, channel.id)
  return {id: channel.id, removed: true}
}

/** One channel by its id as typed, or every channel; refuses an id that is not there. */
export async function findChannels(db: Db, id?: string): Promise<ChannelRow[]> {
  if (id !== undefined) return [await requireChannel(db, id)]
  return allChannels(db)
}

/** How a channel is named in messages: never with its secret, nor with a credential its URL carries. */
export function channelLabel(channel: Pick<ChannelRow, 'id' | 'type' | 'target'>): string {
  return channel.type === 'webhook'
    ? `${channel.id} (webhook ${shownTarget(channel)})`
    : `${channel.id} (telegram chat ${channel.target})`
}

/** A telegram target is a chat id, which opens nothing; a webhook URL may carry credentials. */
function shownTarget(channel: Pick<ChannelRow, 'type' | 'target'>): string {
  return channel.type === 'webhook' ? maskUrl(channel.target) : channel.target
}

interface Backlog {
  pending: number
  failed: number
  lastError: string | null
  lastAttemptAt: number
}

async function requireChannel(db: Db, id: string): Promise<ChannelRow> {
  if (!/^\d{1,15}$/.test(id.trim())) {
    throw invalidInput(
      'INVALID_ALERT_CHANNEL',
      `alert channel id "${id}" is not a number`,
      'see the ids in: sbq alert list',
    )
  }
  const channel = await findChannel(db, Number(id))
  if (!channel)
    throw notFound(
      'ALERT_CHANNEL_NOT_FOUND',
      `alert channel ${Number(id)} does not exist`,
      'see the ids in: sbq alert list',
    )
  return channel
}

interface ValidChannel {
  type: ChannelType
  target: string
  secret: string | null
}

function validChannel(input: NewChannelInput): ValidChannel {
  if (!channelTypes.includes(input.type as ChannelType)) {
    throw invalidInput(
      'INVALID_ALERT_CHANNEL',
      `alert channel type "${input.type}" is not known`,
      `use one of: ${channelTypes.join(', ')}`,
    )
  }
  return input.type === 'webhook' ? validWebhook(input) : validTelegram(input)
}

function validWebhook(input: NewChannelInput): ValidChannel {
  if (input.token !== undefined || input.chat !== undefined) {
    throw invalidInput(
      'INVALID_ALERT_CHANNEL',
      'a webhook takes no --token or --chat',
      'give a URL and optionally --secret: sbq alert add webhook https://example.com/hook --secret S',
    )
  }
  if (input.url === undefined) {
    throw invalidInput(
      'INVALID_ALERT_CHANNEL',
      'a webhook needs a URL',
      'give one: sbq alert add webhook https://example.com/hook',
    )
  }
  if (!isHttpUrl(input.url)) {
    throw invalidInput(
      'INVALID_WEBHOOK_URL',
      `webhook URL "${maskUrl(input.url)}" is not an http(s) URL`,
      'give a full URL like https://example.com/hook',
    )
  }
  if (input.secret !== undefined && input.secret.trim() === '') {
    throw invalidInput(
      'INVALID_ALERT_CHANNEL',
      'webhook secret "" is empty',
      'give a secret, or leave out --secret to send unsigned',
    )
  }
  return {type: 'webhook', target: new URL(input.url).href, secret: input.secret ?? null}
}

function validTelegram(input: NewChannelInput): ValidChannel {
  if (input.url !== undefined || input.secret !== undefined) {
    throw invalidInput(
      'INVALID_ALERT_CHANNEL',
      'a telegram channel takes no URL or --secret',
      'give the bot token and chat: sbq alert add telegram --token T --chat ID',
    )
  }
  if (input.token === undefined || input.chat === undefined) {
    throw invalidInput(
      'INVALID_ALERT_CHANNEL',
      `a telegram channel needs ${input.token === undefined ? '--token' : '--chat'}`,
      'give both: sbq alert add telegram --token 123456:ABC... --chat 987654321',
    )
  }
  // The token goes into the API's URL path, so anything but its documented shape is refused rather than escaped.
  if (!/^\d+:[A-Za-z0-9_-]+$/.test(input.token)) {
    throw invalidInput(
      'INVALID_TELEGRAM_TOKEN',
      'telegram bot token is not in the form 123456:ABC-DEF...',
      'copy the token BotFather gave you',
    )
  }
  const chat = input.chat.trim()
  if (!/^(-?\d+|@[A-Za-z][A-Za-z0-9_]{3,})$/.test(chat)) {
    throw invalidInput(
      'INVALID_TELEGRAM_CHAT',
      `telegram chat "${input.chat}" is not a chat id or @channel`,
      'give a numeric chat id like 987654321 (or -100... for groups) or @channelname',
    )
  }
  return {type: 'telegram', target: chat, secret: input.token}
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

function toView(channel: ChannelRow, backlog: Backlog | undefined): ChannelView {
  return {
    id: channel.id,
    type: channel.type,
    target: shownTarget(channel),
    secret: channel.secret === null ? null : maskSecret(channel.secret),
    createdAt: new Date(channel.created_at).toISOString(),
    pending: backlog?.pending ?? 0,
    failed: backlog?.failed ?? 0,
    lastError: backlog?.lastError ?? null,
  }
}
