/** A user's standing, who acts on it, and the plain view of a user that decisions and commands read. */
export type UserStatus = 'active' | 'disabled' | 'limited' | 'expired'
export const userStatuses: readonly UserStatus[] = ['active', 'disabled', 'limited', 'expired']

export type Actor = 'cli' | 'check' | 'web' | 'import'

/** A user as commands show them; the `--json` shape. Bytes are integers, times ISO 8601. */
export interface UserView {
  name: string
  status: UserStatus
  statusReason: string | null
  plan: string | null
  monthlyQuota: number
  totalQuota: number
  resetDay: number
  maxIps: number | null
  expiresAt: string | null
  note: string | null
  periodStart: string
  periodEnd: string
  periodUp: number
  periodDown: number
  periodUsed: number
  topups: number
  allowance: number
  totalUp: number
  totalDown: number
  totalUsed: number
  createdAt: string
}

export function iso(epochMs: number): string {
  return new Date(epochMs).toISOString()
}
