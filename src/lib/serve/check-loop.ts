/** A job run every `intervalMs`, counted from the end of the last run, so runs never overlap. */
export interface CheckLoop {
  /** Stops scheduling; resolves when a run in progress has finished. */
  stop(): Promise<void>
}

export function startCheckLoop(intervalMs: number, run: () => Promise<void>): CheckLoop {
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> = Promise.resolve()
  const tick = (): void => {
    running = run().finally(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs)
    })
  }
  timer = setTimeout(tick, 0)
  return {
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
