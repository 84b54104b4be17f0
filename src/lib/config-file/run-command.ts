/**
 * Runs a validator or apply command with a deadline. The child gets its own process group so that a timeout ends
 * everything it started (`/bin/sh -c 'systemctl restart …'` forks), not just the shell.
 */
import {spawn} from 'node:child_process'

export interface CommandResult {
  /** Exit status, or null when the command was killed or never started. */
  exitCode: number | null
  timedOut: boolean
  stdout: string
  stderr: string
  /** Set when the command could not be started at all (e.g. the binary is missing). */
  spawnError: Error | undefined
}

/** Output beyond this is dropped: only the first lines are ever shown, and a chatty command must not fill memory. */
const MAX_OUTPUT = 64 * 1024
/** After SIGTERM on timeout, how long the group gets before SIGKILL. */
const KILL_GRACE_MS = 1000

export function runCommand(
  argv: readonly string[],
  options: {timeoutMs: number; cwd?: string},
): Promise<CommandResult> {
  const [file, ...args] = argv
  if (file === undefined) throw new Error('runCommand needs a command')
  return new Promise((resolve) => {
    let stdout = ''
    let stderr = ''
    let timedOut = false
    let settled = false
    const timers: NodeJS.Timeout[] = []
    const child = spawn(file, args, {
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const finish = (result: Omit<CommandResult, 'stdout' | 'stderr' | 'timedOut'>): void => {
      if (settled) return
      settled = true
      for (const t of timers) clearTimeout(t)
      resolve({...result, stdout, stderr, timedOut})
    }
    const signalGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, signal)
      } catch {
        // The group is already gone.
      }
    }
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < MAX_OUTPUT) stdout += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < MAX_OUTPUT) stderr += chunk.toString('utf8')
    })
    child.on('error', (error) => finish({exitCode: null, spawnError: error}))
    child.on('close', (code) => finish({exitCode: code, spawnError: undefined}))
    timers.push(
      setTimeout(() => {
        timedOut = true
        signalGroup('SIGTERM')
        timers.push(
          setTimeout(() => {
            signalGroup('SIGKILL')
            // A grandchild that left the group could still hold the pipes open; stop waiting for them.
            timers.push(setTimeout(() => finish({exitCode: null, spawnError: undefined}), KILL_GRACE_MS))
          }, KILL_GRACE_MS),
        )
      }, options.timeoutMs),
    )
  })
}

/**
 * One line of what the command said, for an error message: apply commands (systemctl) lead with the reason, while
 * the proxies' checkers print a banner first and the reason last, on stdout.
 */
export function errorLine(result: CommandResult, which: 'first' | 'last'): string {
  if (result.spawnError !== undefined) return result.spawnError.message
  const lines = [result.stderr, result.stdout]
    .flatMap((text) => text.split('\n'))
    .map((l) => l.trim())
    .filter((l) => l !== '')
  const line = which === 'first' ? lines[0] : lines.at(-1)
  return line ?? (result.exitCode === null ? 'no output' : `exit status ${result.exitCode}, no output`)
}
