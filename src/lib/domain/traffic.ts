/** What proxies count and who they carry, as plain data: the shapes the accounting and the drivers share. */
/** A cumulative counter as the proxy reports it, e.g. `user>>>alice>>>traffic>>>uplink`. */
export interface CounterSample {
  name: string
  /** Bytes since the proxy (re)started; always a safe non-negative integer. */
  value: number
}

export interface StatsSnapshot {
  counters: CounterSample[]
  /** Seconds since the proxy started, when the API tells; null when it cannot (sing-box SSM). */
  uptimeSeconds: number | null
}

/** The credentials sbq generated (or was given) for a user; each protocol takes the fields it needs. */
export interface UserCredentials {
  uuid: string
  /** Standard base64 of 32 random bytes: a trojan/hysteria2/naive password and a 2022-blake3-*-256 key. */
  password: string
  /** Standard base64 of 16 random bytes: a 2022-blake3-aes-128-gcm key. */
  password16: string
}

/** The key a shadowsocks user needs: 2022-blake3-aes-128-gcm takes a 16-byte key, every other method the 32-byte one. */
export function shadowsocksKey(method: string | undefined, credentials: UserCredentials): string {
  return method?.toLowerCase() === '2022-blake3-aes-128-gcm' ? credentials.password16 : credentials.password
}

export interface ManagedUser {
  name: string
  credentials: UserCredentials
  /** The inbound tags the user may be on (their own choice or their plan's); absent or null: every managed inbound. */
  inbounds?: readonly string[] | null
}

/** Whether a user belongs on the inbound with this tag. */
export function allowedOn(user: Pick<ManagedUser, 'inbounds'>, tag: string): boolean {
  return user.inbounds === undefined || user.inbounds === null || user.inbounds.includes(tag)
}

/**
 * How long the proxy keeps a counter. `process`: until the proxy restarts, so a counter that went down or vanished
 * means every counter started again (Xray, V2Ray, sing-box v2ray_api). `user`: until that user is removed, so a
 * removed and re-added user starts again at 0 while the others keep counting (sing-box SSM).
 */
export type CounterLifetime = 'process' | 'user'
