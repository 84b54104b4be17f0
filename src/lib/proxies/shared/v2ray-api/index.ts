/**
 * The V2Ray-family gRPC API shared by Xray, V2Ray 4.x and sing-box's `experimental.v2ray_api`.
 */
import {invalidInput} from '../../../errors.js'
import type {ExpectedUsers, InboundTarget, ManagedUser, ProxyApi, StatsSnapshot} from '../../proxy-driver.js'
import {type V2rayFlavor, flavorNames, v2rayFlavors} from './flavor.js'
import {GrpcConnection, defaultTimeoutMs} from './grpc-connection.js'
import {HandlerClient} from './handler-client.js'
import {StatsClient} from './stats-client.js'

export type {V2rayFlavor} from './flavor.js'
export {v2rayFlavors} from './flavor.js'

export interface V2rayApiOptions {
  flavor: V2rayFlavor
  /** `HOST:PORT` of the API listener, e.g. `127.0.0.1:10085`. */
  address: string
  /** Deadline for each call; 10 s by default. */
  timeoutMs?: number
}

export interface V2rayApi extends ProxyApi {
  readonly flavor: V2rayFlavor
  readonly address: string
  /** GetSysStats alone: how long the proxy (sing-box: its current instance) has run, in whole seconds. */
  uptimeSeconds(): Promise<number>
}

const hostPortPattern = /^(?:\[[\da-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/

export function parseApiAddress(address: string): string {
  const match = hostPortPattern.exec(address)
  const port = Number(match?.[1])
  if (!match || port < 1 || port > 65_535) {
    throw invalidInput(
      'NODE_ADDRESS_INVALID',
      `node api address "${address}" is not HOST:PORT`,
      'give the api listener as e.g. 127.0.0.1:10085 or [::1]:10085',
    )
  }
  return address
}

export function createV2rayApi(options: V2rayApiOptions): V2rayApi {
  if (!v2rayFlavors.includes(options.flavor)) {
    throw invalidInput(
      'NODE_FLAVOR_INVALID',
      `node flavor "${options.flavor}" is not one of ${v2rayFlavors.join(', ')}`,
      `use one of: ${v2rayFlavors.join(', ')}`,
    )
  }
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw invalidInput(
      'NODE_TIMEOUT_INVALID',
      `node api timeout "${timeoutMs}" is not a positive number of milliseconds`,
      'give a whole number of milliseconds above 0',
    )
  }
  const address = parseApiAddress(options.address)
  const names = flavorNames(options.flavor)
  const connection = new GrpcConnection(address, timeoutMs)
  const stats = new StatsClient(connection, names.statsService)

  const api: V2rayApi = {
    flavor: options.flavor,
    address,
    // RemoveUser leaves a user's counters in the stats manager: they end only with the process.
    counterLifetime: 'process',
    readStats: (): Promise<StatsSnapshot> => stats.readStats(),
    uptimeSeconds: (): Promise<number> => stats.uptimeSeconds(),
    close: (): void => connection.close(),
  }
  if (names.handlerService !== null) {
    const handler = new HandlerClient(connection, options.flavor, names.handlerService, names.typePrefix)
    api.addUser = (inbound: InboundTarget, user: ManagedUser, level?: number): Promise<void> =>
      handler.addUser(inbound, user, level)
    api.removeUser = (inbound: InboundTarget, name: string): Promise<void> => handler.removeUser(inbound, name)
    // V2Ray 4.x has no GetInboundUsers: asking it at every change would only ever answer UNIMPLEMENTED.
    if (options.flavor === 'xray') {
      api.confirmUsers = (inbound: InboundTarget, expected: ExpectedUsers): Promise<void> =>
        handler.confirmUsers(inbound, expected)
    }
  }
  if (options.flavor === 'xray') {
    api.onlineIps = (name: string): Promise<Map<string, number>> => stats.onlineIps(name)
    api.allOnlineIps = (): Promise<Map<string, Map<string, number>> | null> => stats.allOnlineIps()
  }
  return api
}
