/**
 * The locked user sbq puts in a managed inbound that would otherwise have no user at all.
 *
 * An empty user list is not "nobody" to the proxies: sing-box serves socks/http/mixed without authentication, naive
 * refuses the config, and a shadowsocks inbound (sing-box, and Xray's 2022 one) falls back to single-user mode on the
 * server key every former user holds. One user whose secret nobody knows keeps each of them closed.
 *
 * Its name is one sbq's own name rule refuses (`~`), so no real user can ever take it, yet the proxies accept it as an
 * email, a name or a username. Its secret is fresh random bytes written only into the proxy config, which already
 * holds every real user's secret; sbq stores it nowhere else and prints it nowhere.
 */
import {randomBytes, randomUUID} from 'node:crypto'

import type {ManagedUser} from '../proxy-driver.js'

export const PLACEHOLDER_USER_NAME = 'sbq~locked'

export function isPlaceholderUser(name: string | undefined): boolean {
  return name === PLACEHOLDER_USER_NAME
}

/** A placeholder with a new random secret of every kind a protocol may need (uuid, 32- and 16-byte keys). */
export function newPlaceholderUser(): ManagedUser {
  return {
    name: PLACEHOLDER_USER_NAME,
    credentials: {
      uuid: randomUUID(),
      password: randomBytes(32).toString('base64'),
      password16: randomBytes(16).toString('base64'),
    },
  }
}
