import {randomBytes, randomUUID} from 'node:crypto'

import {invalidInput} from '../errors.js'
import type {UserCredentials} from '../proxies/proxy-driver.js'

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * One secret serves every protocol: base64 of 32 random bytes is a valid trojan/hysteria2/naive password and a
 * Shadowsocks 2022 (blake3-aes-256-gcm) key; the 16-byte key covers 2022-blake3-aes-128-gcm.
 */
export function generateCredentials(given: {uuid?: string; password?: string} = {}): UserCredentials {
  if (given.uuid !== undefined && !uuidPattern.test(given.uuid)) {
    throw invalidInput(
      'INVALID_UUID',
      `uuid "${given.uuid}" is not a UUID`,
      'give one like 3f0c8a5e-1b2d-4c6e-9f00-123456789abc, or leave --uuid out',
    )
  }
  if (
    given.password !== undefined &&
    (given.password.length < 8 || given.password.length > 128 || /\s/.test(given.password))
  ) {
    throw invalidInput(
      'INVALID_PASSWORD',
      `password "${given.password}" is not usable`,
      'give 8-128 characters without spaces, or leave --password out',
    )
  }
  return {
    uuid: (given.uuid ?? randomUUID()).toLowerCase(),
    password: given.password ?? randomBytes(32).toString('base64'),
    password16: randomBytes(16).toString('base64'),
  }
}
