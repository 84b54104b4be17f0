/**
 * StatsService: cumulative counters and the proxy's uptime. Never asks for reset: a reset-on-read loses traffic
 * whenever the write after the read fails; the accounting layer diffs cumulative values instead.
 */
import * as grpc from '@grpc/grpc-js'
import {SbqError} from '../../../errors.js'
import type {CounterSample, StatsSnapshot} from '../../proxy-driver.js'
import {type GrpcConnection, RpcStatusError, unexpectedStatus} from './grpc-connection.js'
import {
  decodeGetUsersStatsResponse,
  decodeOnlineIpListResponse,
  decodeQueryStatsResponse,
  decodeSysStatsResponse,
  encodeGetStatsRequest,
  encodeGetUsersStatsRequest,
  encodeQueryStatsRequest,
  encodeSysStatsRequest,
} from './messages.js'

/** The counters sbq can use; sing-box ignores the query pattern and returns everything it tracks. */
const countedPrefixes = ['user>>>', 'inbound>>>', 'outbound>>>']

export function isTrafficCounter(name: string): boolean {
  return countedPrefixes.some((prefix) => name.startsWith(prefix))
}

export class StatsClient {
  constructor(
    private readonly connection: GrpcConnection,
    private readonly service: string,
  ) {}

  async queryCounters(): Promise<CounterSample[]> {
    const stats = await this.call(
      'QueryStats',
      encodeQueryStatsRequest({pattern: '', reset: false}),
      decodeQueryStatsResponse,
    )
    return stats.filter((stat) => isTrafficCounter(stat.name))
  }

  async uptimeSeconds(): Promise<number> {
    const sys = await this.call('GetSysStats', encodeSysStatsRequest(), decodeSysStatsResponse)
    return sys.uptimeSeconds
  }

  async readStats(): Promise<StatsSnapshot> {
    // Uptime first: a restart between the two calls then pairs an old uptime with zeroed counters, which the
    // accounting sees as counters going down. The other order would pair a fresh uptime with pre-restart counters,
    // and those would be counted twice.
    const uptimeSeconds = await this.uptimeSeconds()
    const counters = await this.queryCounters()
    return {counters, uptimeSeconds}
  }

  /** Xray only: the IPs seen for a user (needs `statsUserOnline`), each with its last-seen unix time in seconds. */
  async onlineIps(name: string): Promise<Map<string, number>> {
    const request = encodeGetStatsRequest({name: `user>>>${name}>>>online`, reset: false})
    try {
      return await this.connection.call(this.service, 'GetStatsOnlineIpList', request, decodeOnlineIpListResponse)
    } catch (error) {
      // Xray answers NotFound until the user's first connection creates the online map: no IPs yet.
      if (error instanceof RpcStatusError && error.code === grpc.status.NOT_FOUND) return new Map()
      throw unexpectedStatus(this.connection.address, 'GetStatsOnlineIpList', error)
    }
  }

  /**
   * Xray v26+ (app/stats/command GetUsersStats): every user with an online IP, in one call instead of one
   * GetStatsOnlineIpList per user; null from an Xray without it. No traffic asked for: sbq reads counters by QueryStats.
   */
  async allOnlineIps(): Promise<Map<string, Map<string, number>> | null> {
    try {
      const users = await this.call(
        'GetUsersStats',
        encodeGetUsersStatsRequest({includeTraffic: false, reset: false}),
        decodeGetUsersStatsResponse,
      )
      return new Map(users.map((user) => [user.email, user.ips]))
    } catch (error) {
      if (error instanceof SbqError && error.code === 'NODE_API_UNIMPLEMENTED') return null
      throw error
    }
  }

  private async call<T>(method: string, request: Buffer, decode: (reply: Buffer) => T): Promise<T> {
    try {
      return await this.connection.call(this.service, method, request, decode)
    } catch (error) {
      throw unexpectedStatus(this.connection.address, method, error)
    }
  }
}
