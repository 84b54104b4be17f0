/**
 * Cleanups that must happen however the bench ends: in `finally` blocks for ordinary failures, and here for the ones
 * that skip them (a signal, process.exit, the global time limit). Only synchronous work is possible on the way out.
 */
const tasks = new Set<() => void>()
let installed = false

/** Registers a cleanup; the returned function runs it now (once) and forgets it. */
export function onExit(task: () => void): () => void {
  install()
  let done = false
  const once = (): void => {
    if (done) return
    done = true
    tasks.delete(once)
    task()
  }
  tasks.add(once)
  return once
}

function runAll(): void {
  for (const task of [...tasks]) {
    try {
      task()
    } catch {
      // Best effort: one failed cleanup must not keep the others from running.
    }
  }
}

function install(): void {
  if (installed) return
  installed = true
  process.on('exit', runAll)
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`)
      process.exit(code)
    })
  }
}
