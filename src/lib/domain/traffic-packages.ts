/**
 * Traffic packages (`quota topup NAME 50G --valid 90d`): bytes bought apart from any period, spent only once the
 * period's own allowance is used, kept across resets until used up or past their validity. Pure: `now` comes in.
 */
export interface OpenPackage {
  id: number
  bytes: number
  used: number
  valid_until: number
}

export function isLive(pack: OpenPackage, now: number): boolean {
  return pack.used < pack.bytes && now < pack.valid_until
}

/** What the user's live packages still hold at `now`. */
export function packagesLeft(packages: readonly OpenPackage[] | undefined, now: number): number {
  let left = 0
  for (const pack of packages ?? []) if (isLive(pack, now)) left += pack.bytes - pack.used
  return left
}

/**
 * The bytes of one pull that fall past the period's allowance: only what goes beyond both the allowance and what the
 * period had already used (bytes before the allowance was reached are the period's own; bytes already past it were
 * charged when they were counted).
 */
export function bytesPastAllowance(periodUsedBefore: number, periodUsedAfter: number, allowance: number): number {
  return Math.max(0, periodUsedAfter - Math.max(allowance, periodUsedBefore))
}

/**
 * Spends `bytes` from the live packages, the one that runs out first first (then the oldest), and returns each touched
 * package's new `used`. Bytes beyond every package are not charged anywhere: the user is over and the check limits them.
 */
export function spendPackages(
  packages: readonly OpenPackage[],
  bytes: number,
  now: number,
): Array<{id: number; used: number}> {
  const spent: Array<{id: number; used: number}> = []
  let owed = bytes
  const order = packages
    .filter((pack) => isLive(pack, now))
    .sort((a, b) => a.valid_until - b.valid_until || a.id - b.id)
  for (const pack of order) {
    if (owed <= 0) break
    const take = Math.min(owed, pack.bytes - pack.used)
    spent.push({id: pack.id, used: pack.used + take})
    owed -= take
  }
  return spent
}
