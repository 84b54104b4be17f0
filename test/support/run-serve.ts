import {spawn, type ChildProcess} from 'node:child_process'

import {sbqBin} from './paths.js'

export interface RunningServe {
  child: ChildProcess
  /** http://127.0.0.1:PORT */
  base: string
  stderr: () => string
  startedInMs: number
  stop: () => Promise<number | null>
}

/** Starts the real `sbq serve` on a free port (loopback unless `listen` says otherwise) and waits (bounded) for the address it prints. */
export async function startServe(
  db: string,
  env: NodeJS.ProcessEnv,
  args: string[] = [],
  listen = '127.0.0.1:0',
): Promise<RunningServe> {
  const started = Date.now()
  const child = spawn(sbqBin, ['serve', '--listen', listen, ...args], {
    env: {...process.env, NO_COLOR: '1', SBQ_DB: db, ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sbq serve did not start within 10s: ${stderr}`)), 10_000)
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      // Listening on every address (0.0.0.0) is reached through loopback too.
      const match = /listening on http:\/\/(?:127\.0\.0\.1|0\.0\.0\.0):(\d+)/.exec(stderr)
      if (match) {
        clearTimeout(timer)
        resolve(`http://127.0.0.1:${match[1]!}`)
      }
    })
    void exited.then((code) => reject(new Error(`sbq serve exited with ${code}: ${stderr}`)))
  })
  const startedInMs = Date.now() - started
  return {
    child,
    base,
    stderr: () => stderr,
    startedInMs,
    stop: async () => {
      if (child.exitCode === null && !child.killed) child.kill('SIGTERM')
      return exited
    },
  }
}
