/**
 * Whether a sing-box reload took. On SIGHUP sing-box checks the new config first and, when it is refused, only logs
 * "reload service: …" and keeps the old instance, while `systemctl reload` (a `kill -HUP`) exits 0 either way
 * (cmd/sing-box/cmd_run.go, run()). A reload that took builds a new instance, and with it a new v2ray_api stats
 * service whose GetSysStats uptime counts from that instance's creation (experimental/v2rayapi/stats.go,
 * NewStatsService `createdAt`): an uptime too short for the old instance is the proof.
 */
import {performance} from 'node:perf_hooks'
import type {ApplyConfirmation} from '../../config-file/replace-config.js'
import {SbqError} from '../../errors.js'
import type {V2rayApi} from '../shared/v2ray-api/index.js'

/** One GetSysStats answer: whole seconds, and when (performance.now(), ms) the answer was in hand. */
export interface UptimeReading {
  seconds: number
  receivedAt: number
}

/**
 * A check of a large config (box.New over every inbound and user) takes its time before the new instance answers;
 * past this, sbq says the reload did not take, and the next check tries again.
 */
export const reloadConfirmMs = 10_000
const pollEveryMs = 250
/** Past a whole second by this much, so an instance newer than `before` already reads a second less. */
const pollOffsetMs = 5
const callTimeoutMs = 1_000

/**
 * The least uptime the instance that ran before the apply could show in an answer to a call sent at `sentAt`: its
 * uptime at `before` (or at least 0 when the apply began) plus the whole seconds since. Uptime only grows, and both
 * readings are truncated seconds, so an instance that answers less was created after the apply began.
 */
export function oldInstanceFloor(before: UptimeReading | null, applyStartedAt: number, sentAt: number): number {
  const sinceApply = Math.floor((sentAt - applyStartedAt) / 1000)
  if (before === null) return sinceApply
  return Math.max(before.seconds + Math.floor((sentAt - before.receivedAt) / 1000), sinceApply)
}

export async function readUptime(open: () => Promise<V2rayApi>): Promise<UptimeReading | null> {
  try {
    const api = await open()
    try {
      const seconds = await api.uptimeSeconds()
      return {seconds, receivedAt: performance.now()}
    } finally {
      api.close()
    }
  } catch (error) {
    if (error instanceof SbqError) return null
    throw error
  }
}

/**
 * Uptime is whole seconds: an instance started less than a moment ago reads what its successor will, and with a poll
 * answered late a second boundary can make the two look alike. Reloads seconds apart (a script adding users one by
 * one) would then wait out the whole window and be reported as refused. So before a reload sbq lets a young instance
 * reach `settledSeconds` (at most that long), and the new one, reading less, is told apart at the first answer.
 */
const settledSeconds = 2

export async function readSettledUptime(open: () => Promise<V2rayApi>): Promise<UptimeReading | null> {
  const deadline = performance.now() + settledSeconds * 1000 + pollEveryMs
  for (;;) {
    const reading = await readUptime(open)
    if (reading === null || reading.seconds >= settledSeconds || performance.now() >= deadline) return reading
    await sleep(pollEveryMs)
  }
}

export interface ReloadWatch {
  command: string
  /** The uptime read right before the apply; null when the API did not answer then. */
  before: UptimeReading | null
  applyStartedAt: number
  /** Whether sbq's own `sing-box check` passed the new config. */
  validated: boolean
  open: (timeoutMs: number) => Promise<V2rayApi>
  withinMs?: number
}

/** Polls the node's uptime until a new instance answers, for at most `withinMs`. */
export async function confirmReload(watch: ReloadWatch): Promise<ApplyConfirmation> {
  const withinMs = watch.withinMs ?? reloadConfirmMs
  const deadline = performance.now() + withinMs
  const anchor = watch.before?.receivedAt ?? watch.applyStartedAt
  let answered = false
  let lastError = ''
  for (;;) {
    const sentAt = performance.now()
    try {
      const api = await watch.open(callTimeoutMs)
      try {
        const seconds = await api.uptimeSeconds()
        answered = true
        if (seconds < oldInstanceFloor(watch.before, watch.applyStartedAt, sentAt)) return {took: true}
      } finally {
        api.close()
      }
    } catch (error) {
      // The old instance closes before the new one listens: a refused call is part of every rebuild.
      if (!(error instanceof SbqError)) throw error
      lastError = error.message
    }
    const now = performance.now()
    if (now >= deadline) break
    const next = anchor + Math.ceil((now - anchor + 1) / pollEveryMs) * pollEveryMs + pollOffsetMs
    await sleep(Math.min(next, deadline) - now)
  }
  return notTaken(watch, withinMs, answered, lastError)
}

function notTaken(watch: ReloadWatch, withinMs: number, answered: boolean, lastError: string): ApplyConfirmation {
  const {command} = watch
  const seconds = `${withinMs / 1000}s`
  if (!answered) {
    return {
      took: false,
      reason: `sing-box did not answer on its v2ray_api within ${seconds} after "${command}" (${lastError})`,
      hint: 'check that it runs and why it stopped: systemctl status sing-box; journalctl -u sing-box',
    }
  }
  const why = watch.validated
    ? "sbq's own sing-box check passed it, so the sing-box that runs differs from the one on sbq's PATH (version or build tags)"
    : "put sing-box on sbq's PATH so sbq checks each config before writing it"
  return {
    took: false,
    reason: `sing-box refused the new config on "${command}" and kept the old one (its v2ray_api uptime did not start again within ${seconds})`,
    hint: `see why in journalctl -u sing-box; ${why}`,
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
}
