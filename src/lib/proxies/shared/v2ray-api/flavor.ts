/**
 * The three proxies that speak the V2Ray gRPC API differ only in names: Xray renamed the packages to `xray.*`,
 * V2Ray 4.x keeps `v2ray.core.*` (and answers UNIMPLEMENTED to the xray names), and sing-box re-registers its own
 * stats service under the V2Ray name but has no HandlerService at all.
 */
export type V2rayFlavor = 'xray' | 'v2ray' | 'sing-box'

export const v2rayFlavors: readonly V2rayFlavor[] = ['xray', 'v2ray', 'sing-box']

export interface FlavorNames {
  /** Prefix of every protobuf type name, e.g. `xray.` in `xray.proxy.vless.Account`. */
  typePrefix: 'xray.' | 'v2ray.core.'
  statsService: string
  /** Null where the proxy cannot add or remove users live. */
  handlerService: string | null
}

export function flavorNames(flavor: V2rayFlavor): FlavorNames {
  switch (flavor) {
    case 'xray': {
      return {
        typePrefix: 'xray.',
        statsService: 'xray.app.stats.command.StatsService',
        handlerService: 'xray.app.proxyman.command.HandlerService',
      }
    }
    case 'v2ray': {
      return {
        typePrefix: 'v2ray.core.',
        statsService: 'v2ray.core.app.stats.command.StatsService',
        handlerService: 'v2ray.core.app.proxyman.command.HandlerService',
      }
    }
    case 'sing-box': {
      return {
        typePrefix: 'v2ray.core.',
        statsService: 'v2ray.core.app.stats.command.StatsService',
        handlerService: null,
      }
    }
  }
}
