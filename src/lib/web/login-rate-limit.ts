import {isIPv6} from 'node:net'

/**
 * Dashboard login attempts per client, in memory: at most `maxAttempts` within `windowMs`, then that client may not
 * try again until the oldest of them is older than the window. An attempt counts from the moment it starts, not when
 * its password is found wrong, so parallel requests cannot all pass the check before any of them is counted; a
 * success clears the client. The table is bounded, so a flood of addresses cannot grow it without limit (the oldest
 * entries go first).
 */
export class LoginRateLimit {
  private readonly attempts = new Map<string, number[]>()

  constructor(
    readonly maxAttempts = 5,
    readonly windowMs = 15 * 60_000,
    private readonly maxTracked = 10_000,
  ) {}

  /** 0 when the client may try now; else the milliseconds until it may. */
  retryAfterMs(key: string, now: number): number {
    const recent = this.recent(key, now)
    if (recent.length < this.maxAttempts) return 0
    return recent[recent.length - this.maxAttempts]! + this.windowMs - now
  }

  /**
   * Checks and records an attempt in one synchronous step: 0 when it was recorded (go on and check the password),
   * else the milliseconds until the client may try (nothing recorded).
   */
  begin(key: string, now: number): number {
    const wait = this.retryAfterMs(key, now)
    if (wait > 0) return wait
    const recent = this.recent(key, now)
    recent.push(now)
    // Re-inserted so the map's order is least recently tried first.
    this.attempts.delete(key)
    this.attempts.set(key, recent.slice(-this.maxAttempts))
    while (this.attempts.size > this.maxTracked) this.attempts.delete(this.attempts.keys().next().value!)
    return 0
  }

  succeed(key: string): void {
    this.attempts.delete(key)
  }

  get tracked(): number {
    return this.attempts.size
  }

  private recent(key: string, now: number): number[] {
    const times = (this.attempts.get(key) ?? []).filter((at) => at > now - this.windowMs)
    if (times.length === 0) this.attempts.delete(key)
    return times
  }
}

/**
 * The rate limit's key for a client address: an IPv4 address as it is (also when IPv4-mapped), an IPv6 address by
 * its /64, since one host usually holds a whole /64 and could otherwise try from a new address every time.
 */
export function rateLimitKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)
  if (mapped) return mapped[1]!
  const bare = address.split('%')[0]!
  if (!isIPv6(bare)) return address
  const groups = (part: string) =>
    part === '' ? [] : part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group]))
  const [head = '', tail] = bare.toLowerCase().split('::')
  const left = groups(head)
  const right = tail === undefined ? [] : groups(tail)
  const full = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  return `${full
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`
}
