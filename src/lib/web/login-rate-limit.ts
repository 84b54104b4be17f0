/**
 * Failed dashboard logins per client IP, in memory: after `maxFailures` within `windowMs`, that IP may not try again
 * until the oldest of them is older than the window. A success clears the IP. The table is bounded, so a flood of
 * addresses cannot grow it without limit (the oldest entries go first).
 */
export class LoginRateLimit {
  private readonly failures = new Map<string, number[]>()

  constructor(
    readonly maxFailures = 5,
    readonly windowMs = 15 * 60_000,
    private readonly maxTracked = 10_000,
  ) {}

  /** 0 when the IP may try now; else the milliseconds until it may. */
  retryAfterMs(ip: string, now: number): number {
    const recent = this.recent(ip, now)
    if (recent.length < this.maxFailures) return 0
    return recent[recent.length - this.maxFailures]! + this.windowMs - now
  }

  fail(ip: string, now: number): void {
    const recent = this.recent(ip, now)
    recent.push(now)
    // Re-inserted so the map's order is least recently failed first.
    this.failures.delete(ip)
    this.failures.set(ip, recent.slice(-this.maxFailures))
    while (this.failures.size > this.maxTracked) this.failures.delete(this.failures.keys().next().value!)
  }

  succeed(ip: string): void {
    this.failures.delete(ip)
  }

  get tracked(): number {
    return this.failures.size
  }

  private recent(ip: string, now: number): number[] {
    const times = (this.failures.get(ip) ?? []).filter((at) => at > now - this.windowMs)
    if (times.length === 0) this.failures.delete(ip)
    return times
  }
}
