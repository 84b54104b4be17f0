/**
 * The per-protocol account a User carries in AddUserOperation, wrapped in a TypedMessage whose type is the account's
 * full protobuf name. The field sets differ between Xray and V2Ray (vmess alter_id, shadowsocks 2022).
 */
import {is2022Method} from '../user-lists.js'
import {invalidInput} from '../../../errors.js'
import type {InboundTarget, UserCredentials} from '../../proxy-driver.js'
import {ProtoWriter} from '../grpc-wire.js'
import {type V2rayFlavor, flavorNames} from './flavor.js'
import type {TypedMessage} from './messages.js'

/** The only 2022 method whose key is 16 bytes; the other 2022 methods take 32. */
const shadowsocks2022ShortKeyMethod = '2022-blake3-aes-128-gcm'

/**
 * Xray's `CipherType` (proxy/shadowsocks/config.proto) for the method names infra/conf/shadowsocks.go's
 * cipherFromString accepts; the AEAD ones are the only legacy methods Xray lets several users share.
 */
const legacyCipherTypes: Readonly<Record<string, number>> = {
  'aes-128-gcm': 5,
  aead_aes_128_gcm: 5,
  'aes-256-gcm': 6,
  aead_aes_256_gcm: 6,
  'chacha20-poly1305': 7,
  aead_chacha20_poly1305: 7,
  'chacha20-ietf-poly1305': 7,
  'xchacha20-poly1305': 8,
  aead_xchacha20_poly1305: 8,
  'xchacha20-ietf-poly1305': 8,
  none: 9,
  plain: 9,
}

function legacyCipherType(inbound: InboundTarget): number {
  const cipher = legacyCipherTypes[(inbound.method ?? '').toLowerCase()]
  if (cipher === undefined) {
    throw invalidInput(
      'INBOUND_NOT_LIVE',
      `inbound "${inbound.tag}" is shadowsocks with method "${inbound.method ?? ''}", which Xray cannot add users to live`,
      'use an AEAD or 2022 method, or let sbq rewrite the config and restart the proxy',
    )
  }
  return cipher
}

export function encodeAccount(flavor: V2rayFlavor, inbound: InboundTarget, credentials: UserCredentials): TypedMessage {
  const {typePrefix} = flavorNames(flavor)
  const writer = new ProtoWriter(128)
  switch (inbound.protocol) {
    case 'vmess': {
      writer.string(1, credentials.uuid)
      // V2Ray's alter_id (field 2) must be 0 to select VMess AEAD; 0 is proto3's default and never written, which
      // also suits Xray, whose Account has no such field.
      return {type: `${typePrefix}proxy.vmess.Account`, value: writer.finish()}
    }
    case 'vless': {
      // No `encryption` (field 3): it belongs to the client side, and Xray refuses it on an inbound's users.
      writer.string(1, credentials.uuid).string(2, inbound.flow ?? '')
      return {type: `${typePrefix}proxy.vless.Account`, value: writer.finish()}
    }
    case 'trojan': {
      writer.string(1, credentials.password)
      return {type: `${typePrefix}proxy.trojan.Account`, value: writer.finish()}
    }
    case 'hysteria': {
      if (flavor !== 'xray') {
        throw invalidInput(
          'INBOUND_NOT_LIVE',
          `inbound "${inbound.tag}" is hysteria, which ${flavor} does not have`,
          'use a vmess, vless or trojan inbound',
        )
      }
      // Xray's proxy/hysteria/account/config.proto: `Account { string auth = 1 }`, the password a client sends.
      writer.string(1, credentials.password)
      return {type: `${typePrefix}proxy.hysteria.account.Account`, value: writer.finish()}
    }
    case 'shadowsocks': {
      if (flavor !== 'xray') {
        throw invalidInput(
          'INBOUND_NOT_LIVE',
          `inbound "${inbound.tag}" is shadowsocks, which ${flavor} cannot change users on live`,
          'use a vmess, vless or trojan inbound, or let sbq rewrite the config and restart the proxy',
        )
      }
      if (!is2022Method(inbound.method)) {
        // A legacy (AEAD) inbound takes only its own account type: Xray casts the account unchecked, and a 2022 one
        // there panics the whole process (its gRPC server recovers no panic).
        writer.string(1, credentials.password).uint(2, legacyCipherType(inbound))
        return {type: `${typePrefix}proxy.shadowsocks.Account`, value: writer.finish()}
      }
      const key = inbound.method === shadowsocks2022ShortKeyMethod ? credentials.password16 : credentials.password
      writer.string(1, key)
      return {type: `${typePrefix}proxy.shadowsocks_2022.Account`, value: writer.finish()}
    }
  }
}
