import {createHmac} from 'node:crypto'
import {setTimeout as sleep} from 'node:timers/promises'

import type {ChannelRow} from '../db/schema.js'
import {maskUrlSecretsIn} from '../domain/mask-secrets.js'
import type {WebhookBody} from './messages.js'

export interface TransportOptions {
  /** HTTP tries per message within one run. */
  tries: number
  /** Wait before the second try; doubled before each later one. */
  backoffMs: number
  /** For the whole of one try: connect, headers and body. */
  timeoutMs: number
  /** Telegram Bot API base URL, without the /bot<token> part. */
  telegramApi: string
}

/** SBQ_TELEGRAM_API points Telegram delivery elsewhere: at a local stub in tests, or at an API proxy. */
export function defaultTransportOptions(env: NodeJS.ProcessEnv = process.env): TransportOptions {
  return {tries: 3, backoffMs: 250, timeoutMs: 5000, telegramApi: env.SBQ_TELEGRAM_API || 'https://api.telegram.org'}
}

/** Why a message did not go through, in one line that never contains the channel's secret. */
export class DeliveryError extends Error {
  /** True when trying again cannot help (a 4xx answer other than 408/429): the run does not retry it. */
  readonly permanent: boolean

  constructor(message: string, permanent: boolean) {
    super(message)
    this.name = 'DeliveryError'
    this.permanent = permanent
  }
}

/** The `X-Sbq-Signature` value: HMAC-SHA256 of the exact body bytes, hex, as GitHub-style receivers expect. */
export function signature(secret: string, payload: string): string {
  return `sha256=${createHmac('sha256', secret).update(payload, 'utf8').digest('hex')}`
}

/** Sends one message, retrying transient failures a bounded number of times; throws a DeliveryError at the end. */
export async function sendToChannel(channel: ChannelRow, body: WebhookBody, options: TransportOptions): Promise<void> {
  for (let tryNumber = 1; ; tryNumber++) {
    try {
      await sendOnce(channel, body, options)
      return
    } catch (error) {
      const failure = asDeliveryError(error, channel, options)
      if (failure.permanent || tryNumber >= options.tries) throw failure
    }
    await sleep(options.backoffMs * 2 ** (tryNumber - 1))
  }
}

async function sendOnce(channel: ChannelRow, body: WebhookBody, options: TransportOptions): Promise<void> {
  if (channel.type === 'webhook') {
    const payload = JSON.stringify(body)
    const headers: Record<string, string> = {'content-type': 'application/json', 'user-agent': 'sbq'}
    if (channel.secret !== null) headers['x-sbq-signature'] = signature(channel.secret, payload)
    const {status, text} = await post(channel.target, headers, payload, options.timeoutMs)
    if (status < 200 || status >= 300) throw httpFailure(status, text)
    return
  }
  const url = `${options.telegramApi.replace(/\/+$/, '')}/bot${channel.secret}/sendMessage`
  const payload = JSON.stringify({chat_id: channel.target, text: body.text})
  const {status, text} = await post(
    url,
    {'content-type': 'application/json', 'user-agent': 'sbq'},
    payload,
    options.timeoutMs,
  )
  const answer = parseTelegramAnswer(text)
  if (status >= 200 && status < 300 && answer?.ok === true) return
  throw httpFailure(status, answer?.description ?? text)
}

async function post(
  url: string,
  headers: Record<string, string>,
  payload: string,
  timeoutMs: number,
): Promise<{status: number; text: string}> {
  // undici loads on the first alert sent: loading it at every start cost `report` and `check` about 20 ms.
  const {request} = await import('undici')
  const response = await request(url, {
    method: 'POST',
    headers,
    body: payload,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  })
  return {status: response.statusCode, text: await response.body.text()}
}

function parseTelegramAnswer(text: string): {ok?: unknown; description?: string} | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? (value as {ok?: unknown; description?: string}) : undefined
  } catch {
    return undefined
  }
}

function httpFailure(status: number, detail: string): DeliveryError {
  const retryable = status >= 500 || status === 408 || status === 429
  const excerpt = oneLine(detail).slice(0, 120)
  const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : ''
  return new DeliveryError(`HTTP ${status}${redirect}${excerpt ? `: ${excerpt}` : ''}`, !retryable)
}

function asDeliveryError(error: unknown, channel: ChannelRow, options: TransportOptions): DeliveryError {
  const raw =
    error instanceof DeliveryError ? error : new DeliveryError(describeNetworkError(error, options.timeoutMs), false)
  // Errors can echo the request URL: a Telegram URL carries the bot token, a webhook URL may carry its own credentials.
  const withoutSecret = channel.secret === null ? raw.message : raw.message.split(channel.secret).join('***')
  const message = channel.type === 'webhook' ? maskUrlSecretsIn(withoutSecret, channel.target) : withoutSecret
  return new DeliveryError(oneLine(message).slice(0, 200), raw.permanent)
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as {code?: unknown}).code
  if (
    error.name === 'TimeoutError' ||
    error.name === 'AbortError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  ) {
    return `no answer within ${timeoutMs / 1000} s`
  }
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
  return `${error.message}${cause}`
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}
