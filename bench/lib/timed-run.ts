import {spawn} from 'node:child_process'
import {existsSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {onExit} from './exit-cleanup.js'

const gnuTime = '/usr/bin/time'

/** Whether peak RSS can be measured: only GNU time reports a child's high-water mark after it has exited. */
export const rssMeasurable = existsSync(gnuTime)

export interface RunOptions {
  command: string
  args: string[]
  env: NodeJS.ProcessEnv
  /** Where GNU time writes its report, so the command's own stderr stays apart. */
  scratchDir: string
  timeoutMs: number
  okExitCodes: readonly number[]
  /** Keep the command's stdout (for checking a result); otherwise it is only counted. */
  keepStdout?: boolean
}

/** A run killed at its time limit (with its whole process group). */
export class RunTimedOut extends Error {}

export interface RunMeasurement {
  wallMs: number
  /** Peak resident set of the command, null without GNU time. */
  rssKb: number | null
  stdoutBytes: number
  stdout: string
}

/**
 * Runs one command to completion and measures it as a user's shell would see it. Wall time comes from our own clock
 * (GNU time's %e has only 10 ms resolution); the few hundred microseconds GNU time adds are inside it.
 */
export function timedRun(options: RunOptions): Promise<RunMeasurement> {
  const report = join(options.scratchDir, 'time-report.txt')
  rmSync(report, {force: true})
  const [file, args] = rssMeasurable
    ? [gnuTime, ['-f', '%M', '-o', report, options.command, ...options.args]]
    : [options.command, options.args]
  return new Promise((resolve, reject) => {
    const started = performance.now()
    // Its own process group, so a timeout kills the command and not just GNU time.
    const child = spawn(file, args, {env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    const killGroup = onExit(() => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // The group ended between the check and the kill.
      }
    })
    let stdoutBytes = 0
    const kept: Buffer[] = []
    let tail = Buffer.alloc(0)
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length
      if (options.keepStdout) kept.push(chunk)
      // With --json a failure is reported on stdout, so its end is kept for the error message.
      tail = Buffer.concat([tail, chunk]).subarray(-2048)
    })
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString('utf8')
    })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killGroup()
    }, options.timeoutMs)
    const settle = (): void => {
      clearTimeout(timer)
      killGroup()
    }
    child.on('error', (error) => {
      settle()
      reject(error)
    })
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - started
      settle()
      const what = `${options.command} ${options.args.join(' ')}`
      if (signal !== null) {
        const message = `${what}: killed by ${signal} after ${Math.round(wallMs)} ms (limit ${options.timeoutMs} ms)`
        reject(timedOut ? new RunTimedOut(message) : new Error(message))
        return
      }
      const exit = code ?? -1
      if (!options.okExitCodes.includes(exit)) {
        reject(
          new Error(`${what}: exit ${exit}: ${(stderr.trim() || tail.toString('utf8').trim()).replace(/\s+/g, ' ')}`),
        )
        return
      }
      resolve({
        wallMs,
        rssKb: rssMeasurable ? readPeakRss(report) : null,
        stdoutBytes,
        stdout: Buffer.concat(kept).toString('utf8'),
      })
    })
  })
}

function readPeakRss(report: string): number {
  const text = readFileSync(report, 'utf8')
  // With -o, GNU time puts "Command exited with non-zero status N" above the figure when a command fails.
  const kb = Number(text.trim().split('\n').pop())
  if (!Number.isFinite(kb) || kb <= 0) throw new Error(`GNU time reported no peak RSS: ${JSON.stringify(text)}`)
  return kb
}
