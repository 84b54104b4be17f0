import {hostname} from 'node:os'

import type {Context} from '../context.js'
import {claimDelivery, recordDelivered, recordFailedAttempt} from '../db/alerts-repository.js'
import type {Db} from '../db/open-database.js'
import {notFound, unreachable} from '../errors.js'
import {channelLabel, findChannels} from './channels.js'
import {alertBody, messageBody, testBody, type WebhookBody} from './messages.js'
import {alertOfRow, pendingDeliveries, type PendingDelivery} from './outbox.js'
import {DeliveryError, defaultTransportOptions, sendToChannel, type TransportOptions} from './transport.js'

export interface DeliveryOptions extends TransportOptions {
  /** Runs that may fail to deliver an alert before it is marked failed and no longer retried. */
  maxRuns: number
  /** How long a run may hold a delivery before an overlapping run may take it over; covers every try of one message. */
  claimMs: number
}

export function defaultDeliveryOptions(env: NodeJS.ProcessEnv = process.env): DeliveryOptions {
  return {...defaultTransportOptions(env), maxRuns: 20, claimMs: 5 * 60 * 1000}
}

/** A channel that failed in this run, with the first reason and how many alerts it still owes. */
export interface DeliveryFailure {
  channel: number
  label: string
  error: string
  alerts: number
}

export interface DeliveryReport {
  sent: number
  failed: DeliveryFailure[]
  /** Alerts marked failed in this run after `maxRuns` failed runs. */
  gaveUp: number
}

/**
 * Sends every pending alert and records each outcome; what failed stays pending for the next run. Delivery problems
 * are reported, never thrown, so a dead endpoint cannot stop enforcement. Once a channel fails for a transient reason
 * (after its retries), its remaining alerts are not tried again in this run, which bounds a run's time by channels,
 * not alerts; they count the failed run all the same, so a dead channel's backlog is given up on together.
 */
export async function deliverPending(
  db: Db,
  context: Context,
  options: Partial<DeliveryOptions> = {},
): Promise<DeliveryReport> {
  const settings = {...defaultDeliveryOptions(), ...options}
  const failures = new Map<number, DeliveryFailure>()
  const downChannels = new Map<number, string>()
  const report: DeliveryReport = {sent: 0, failed: [], gaveUp: 0}
  for (const delivery of await pendingDeliveries(db, context.now)) {
    const key = {alertId: delivery.alert.id, channelId: delivery.channel.id}
    // Takes the delivery for this run unless another run holds it: the conditional update is the lock.
    if (!(await claimDelivery(db, key, context.now, context.now + settings.claimMs))) continue
    const channelId = delivery.channel.id
    const downReason = downChannels.get(channelId)
    const error = downReason === undefined ? await attempt(delivery, settings) : new DeliveryError(downReason, false)
    if (error === null) {
      await recordDelivered(db, key, delivery.attempts + 1, context.now)
      report.sent++
      continue
    }
    if (await recordFailure(db, delivery, error.message, context.now, settings.maxRuns)) report.gaveUp++
    if (!error.permanent) downChannels.set(channelId, error.message)
    const failure = failures.get(channelId) ?? {
      channel: channelId,
      label: channelLabel(delivery.channel),
      error: error.message,
      alerts: 0,
    }
    failure.alerts++
    failures.set(channelId, failure)
  }
  report.failed = [...failures.values()]
  return report
}

export interface TestDelivery {
  channel: number
  label: string
  sent: true
}

/** Sends a test message through one channel or all of them; fails (exit 4) naming every channel that did not take it. */
export async function sendTestAlerts(
  db: Db,
  id: string | undefined,
  context: Context,
  options: Partial<TransportOptions> = {},
): Promise<TestDelivery[]> {
  return broadcast(db, id, testBody(hostname(), context.now), 'test', options)
}

/** Sends a free-form message (the report summary) through every channel, now; exit 4 naming any that failed. */
export async function sendMessage(
  db: Db,
  text: string,
  context: Context,
  options: Partial<TransportOptions> = {},
): Promise<TestDelivery[]> {
  return broadcast(db, undefined, messageBody('summary', text, context.now), 'send the summary to', options)
}

async function broadcast(
  db: Db,
  id: string | undefined,
  body: WebhookBody,
  purpose: string,
  options: Partial<TransportOptions>,
): Promise<TestDelivery[]> {
  const settings = {...defaultTransportOptions(), ...options}
  const channels = await findChannels(db, id)
  if (channels.length === 0) {
    throw notFound(
      'NO_ALERT_CHANNELS',
      `there are no alert channels to ${purpose}`,
      'add one: sbq alert add webhook https://example.com/hook',
    )
  }
  const outcomes = await Promise.all(
    channels.map(async (channel) => {
      try {
        await sendToChannel(channel, body, settings)
        return {channel: channel.id, label: channelLabel(channel), error: null}
      } catch (error) {
        return {
          channel: channel.id,
          label: channelLabel(channel),
          error: error instanceof Error ? error.message : String(error),
        }
      }
    }),
  )
  const failures = outcomes.filter((outcome) => outcome.error !== null)
  if (failures.length > 0) {
    throw unreachable(
      'ALERT_DELIVERY_FAILED',
      failures.map((failure) => `alert channel ${failure.label} failed: ${failure.error}`).join('; '),
      'check that the endpoint is up and its URL, chat or token is right; see: sbq alert list',
    )
  }
  return outcomes.map((outcome) => ({channel: outcome.channel, label: outcome.label, sent: true}))
}

async function attempt(delivery: PendingDelivery, options: TransportOptions): Promise<DeliveryError | null> {
  try {
    await sendToChannel(delivery.channel, alertBody(alertOfRow(delivery.alert), delivery.alert.text), options)
    return null
  } catch (error) {
    return error instanceof DeliveryError
      ? error
      : new DeliveryError(error instanceof Error ? error.message : String(error), false)
  }
}

/** Returns whether this failure used up the last run and the alert is now given up on. */
async function recordFailure(
  db: Db,
  delivery: PendingDelivery,
  error: string,
  now: number,
  maxRuns: number,
): Promise<boolean> {
  const attempts = delivery.attempts + 1
  const givenUp = attempts >= maxRuns
  await recordFailedAttempt(
    db,
    {alertId: delivery.alert.id, channelId: delivery.channel.id},
    attempts,
    error,
    now,
    givenUp ? now : null,
  )
  return givenUp
}
