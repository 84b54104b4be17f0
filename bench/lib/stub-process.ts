import {spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'
import {createInterface} from 'node:readline'

import {repoRoot} from '../../test/support/paths.js'
import {onExit} from './exit-cleanup.js'

const stubScript = join(repoRoot, 'dist', 'bench', 'lib', 'slice-stub.js')

export interface StubProcess {
  /** 127.0.0.1:port once the stub listens. */
  address: Promise<string>
  /** From the next QueryStats on, grow only the users whose number is a multiple of `every` (1: every user). */
  activeEvery(every: number): Promise<void>
  /** Kills the stub; safe to call more than once and before it has started listening. */
  stop(): Promise<void>
}

/**
 * The stub V2Ray API (V2Ray flavour) in a process of its own, so serving 2N counters costs the measured sbq nothing but the socket,
 * as a real proxy would.
 */
export function startStub(options: {
  users: number
  /** The first user it counts (user<first> … user<first+users-1>); 1 by default. */
  first?: number
  growBytes: number
  timeoutMs: number
}): StubProcess {
  const child = spawn(
    process.execPath,
    [
      stubScript,
      '--first',
      String(options.first ?? 1),
      '--users',
      String(options.users),
      '--grow',
      String(options.growBytes),
    ],
    {stdio: ['pipe', 'pipe', 'pipe']},
  )
  const killOnExit = onExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8')
  })
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.once('error', () => resolve())
  })
  const lines = createInterface({input: child.stdout})
  const address = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stub did not listen within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    )
    lines.once('line', (line) => {
      clearTimeout(timer)
      try {
        const {port} = JSON.parse(line) as {port: number}
        resolve(`127.0.0.1:${port}`)
      } catch {
        reject(new Error(`stub printed ${JSON.stringify(line)} instead of its port`))
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`stub exited (${signal ?? code}) before listening: ${stderr.trim()}`))
    })
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
  // A rejection nobody awaits (the size failed before asking for the address) must not crash the bench.
  address.catch(() => undefined)
  return {
    address,
    activeEvery: async (every) => {
      await address
      const answered = new Promise<string>((resolve, reject) => {
        const gone = (): void => reject(new Error(`stub exited: ${stderr.trim()}`))
        child.once('exit', gone)
        lines.once('line', (line) => {
          child.off('exit', gone)
          resolve(line)
        })
      })
      child.stdin.write(`${JSON.stringify({activeEvery: every})}\n`)
      const answer = JSON.parse(await answered) as {activeEvery?: number}
      if (answer.activeEvery !== every)
        throw new Error(`stub answered ${JSON.stringify(answer)} to activeEvery ${every}`)
    },
    stop: async () => {
      await stopChild(child, exited)
      killOnExit()
    },
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}
