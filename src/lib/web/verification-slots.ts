/**
 * A cap on password checks running at once, across all clients: each scrypt check holds 32 MiB and a thread-pool
 * thread for tens of milliseconds, so a flood of logins from many addresses is refused (429) rather than queued until
 * memory or the thread pool runs out.
 */
export class VerificationSlots {
  private busy = 0

  constructor(readonly max = 4) {}

  /** Takes a slot; false when all are taken. Every true must be followed by one `release`. */
  tryTake(): boolean {
    if (this.busy >= this.max) return false
    this.busy++
    return true
  }

  release(): void {
    this.busy = Math.max(0, this.busy - 1)
  }

  get inUse(): number {
    return this.busy
  }
}
