/**
 * The per-protocol account a User carries in AddUserOperation, wrapped in a TypedMessage whose type is the account's
 * full protobuf name. The field sets differ between Xray and V2Ray (vmess alter_id, shadowsocks 2022).
 */
import {invalidInput} from '../../errors.js'
import type {InboundTarget, UserCredentials} from '../proxy-api.js'
import {ProtoWriter} from '../grpc-wire.js'
import {type V2rayFlavor, flavorNames} from './flavor.js'
import type {TypedMessage} from './messages.js'

/** The only 2022 method whose key is 16 bytes; the other 2022 methods take 32. */
const shadowsocks2022ShortKeyMethod = '2022-blake3-aes-128-gcm'

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
    case 'shadowsocks': {
      if (flavor !== 'xray') {
        throw invalidInput(
          'INBOUND_NOT_LIVE',
          `inbound "${inbound.tag}" is shadowsocks, which ${flavor} cannot change users on live`,
          'use a vmess, vless or trojan inbound, or let sbq rewrite the config and restart the proxy',
        )
      }
      const key = inbound.method === shadowsocks2022ShortKeyMethod ? credentials.password16 : credentials.password
      writer.string(1, key)
      return {type: `${typePrefix}proxy.shadowsocks_2022.Account`, value: writer.finish()}
    }
  }
}
