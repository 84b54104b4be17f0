import {spawn, type ChildProcess} from 'node:child_process'
import {accessSync, constants} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {delimiter, dirname, join} from 'node:path'
import {acceptsConnections} from './loopback-ports.js'

/** Absolute path of an executable on PATH, or undefined. */
export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      continue
    }
  }
  return undefined
}

/** v2ctl ships beside v2ray in the official archives and in Debian's package; fall back to PATH. */
export function findV2ctl(): string | undefined {
  const v2ray = findOnPath('v2ray')
  if (v2ray !== undefined) {
    const beside = join(dirname(v2ray), 'v2ctl')
    try {
      accessSync(beside, constants.X_OK)
      return beside
    } catch {
      // not beside v2ray: look on PATH below
    }
  }
  return findOnPath('v2ctl')
}

const live = new Set<ChildProcess>()
let exitHookInstalled = false

function killAll(): void {
  for (const child of live) child.kill('SIGKILL')
}

/**
 * A crashed or interrupted test must not leave proxies behind. 'exit' covers crashes and process.exit; a signal
 * (the test runner's timeout, Ctrl-C) skips 'exit', so those kill the children too and then, unless someone else
 * handles the signal, re-raise it to die the default way.
 */
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll()
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    })
  }
}

const OUTPUT_LIMIT = 64 * 1024

export interface V2rayProcess {
  readonly pid: number
  readonly configPath: string
  /** The tail of v2ray's stdout and stderr, interleaved. */
  output(): string
  /** Whether the process has exited. */
  exited(): boolean
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>
}

export class V2rayStartError extends Error {
  override readonly name = 'V2rayStartError'
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(`${message}\n--- v2ray output ---\n${output.trimEnd()}`)
  }

  /** The config asked for a port that something else took between our probe and v2ray's bind. */
  get portTaken(): boolean {
    return /address already in use/i.test(this.output)
  }
}

/** TCP ports of the config's inbounds: the process counts as started once all of them accept connections. */
async function inboundPorts(configPath: string): Promise<number[]> {
  const config: unknown = JSON.parse(await readFile(configPath, 'utf8'))
  const inbounds = (config as {inbounds?: unknown}).inbounds
  if (!Array.isArray(inbounds)) return []
  return inbounds.flatMap((inbound: unknown) => {
    const port = (inbound as {port?: unknown} | null)?.port
    return typeof port === 'number' ? [port] : []
  })
}

const STARTED_LINE = /V2Ray \S+ started/
const QUIET_LOG_GRACE_MS = 500

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Run `v2ray -config FILE` and resolve once every inbound port of FILE accepts connections. Rejects with the
 * process's output when it exits early or does not listen within `timeoutMs`.
 */
export async function startV2ray(configPath: string, timeoutMs = 10_000): Promise<V2rayProcess> {
  const binary = findOnPath('v2ray')
  if (binary === undefined) throw new Error('v2ray is not on PATH')
  const ports = await inboundPorts(configPath)

  installExitHook()
  const child = spawn(binary, ['-config', configPath], {stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT)
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)

  let exitStatus: string | undefined
  const gone = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitStatus = signal === null ? `exit code ${code}` : `signal ${signal}`
      live.delete(child)
      resolve()
    })
  })
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve)
    child.once('error', reject)
  })
  await spawned
  live.add(child)
  const pid = child.pid
  if (pid === undefined) throw new V2rayStartError(`v2ray did not start for ${configPath}`, output)

  const handle: V2rayProcess = {
    pid,
    configPath,
    output: () => output,
    exited: () => exitStatus !== undefined,
    async stop(graceMs = 3000) {
      if (exitStatus !== undefined) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await gone
      clearTimeout(timer)
    },
  }

  const deadline = Date.now() + timeoutMs
  let allListeningSince: number | undefined
  for (;;) {
    if (exitStatus !== undefined) {
      throw new V2rayStartError(`v2ray (${configPath}) stopped while starting: ${exitStatus}`, output)
    }
    const listening = await Promise.all(ports.map((port) => acceptsConnections(port)))
    if (listening.every(Boolean)) {
      allListeningSince ??= Date.now()
      // A port can answer because another process holds it while v2ray is still failing to bind it: trust the
      // listeners once v2ray logs that it started, or (log level too quiet for that line) once it has stayed up.
      const trusted = STARTED_LINE.test(output) || Date.now() - allListeningSince >= QUIET_LOG_GRACE_MS
      if (trusted && exitStatus === undefined) return handle
    } else {
      allListeningSince = undefined
    }
    if (Date.now() > deadline) {
      await handle.stop()
      const missing = ports.filter((_, i) => !listening[i])
      throw new V2rayStartError(
        `v2ray (${configPath}) not listening on 127.0.0.1:${missing.join(',')} after ${timeoutMs} ms`,
        output,
      )
    }
    await sleep(50)
  }
}
