/**
 * A sing-box process as sbq sees it: its config file, its `experimental.v2ray_api` (the gRPC stand-in of
 * stub-v2ray-api.ts, flavor sing-box) and its SIGHUP reload. Follows SagerNet/sing-box at commit
 * 7df171ff20cdcd5e79dd373198176811dabc7742:
 *
 * - cmd/sing-box/cmd_run.go `run()`: on SIGHUP it runs `check()` (read and merge the config, then `box.New`) and, when
 *   that fails, only logs `reload service: …` and keeps the running instance; otherwise it closes the instance and
 *   creates a new one from the config.
 * - experimental/v2rayapi/stats.go: each instance gets a new `StatsService`: GetSysStats `Uptime` counts from its
 *   `createdAt`, its counter map starts empty (counters vanish, they are not zeroed), and only names listed in
 *   `stats.users` are counted (`countUser := user != "" && s.users[user]`).
 * - include/v2rayapi_stub.go: a build without the `with_v2ray_api` tag refuses any config with a v2ray_api listener;
 *   release/DEFAULT_BUILD_TAGS: the official release builds have no such tag.
 * - option/inbound.go: an unknown inbound type is refused (`unknown inbound type: …`); the types are those that
 *   include/registry.go and include/quic.go register.
 *
 * The reload runs when this process receives `signal` (SIGUSR2 by default), so a node's apply command
 * (`kill -USR2 PID`) returns before the rebuild, as `systemctl reload sing-box` (ExecReload=/bin/kill -HUP $MAINPID,
 * release/config/sing-box.service) does. The API listener is not closed during the rebuild.
 */
import {readFileSync} from 'node:fs'
import {StubV2rayApi} from './stub-v2ray-api.js'

/** release/DEFAULT_BUILD_TAGS at that commit. */
export const officialBuildTags = [
  'with_gvisor',
  'with_quic',
  'with_dhcp',
  'with_wireguard',
  'with_utls',
  'with_acme',
  'with_clash_api',
  'with_tailscale',
  'with_ccm',
  'with_ocm',
  'with_naive_outbound',
  'badlinkname',
  'tfogo_checklinkname0',
]

const inboundTypes = new Set([
  'tun',
  'redirect',
  'tproxy',
  'direct',
  'socks',
  'http',
  'mixed',
  'shadowsocks',
  'vmess',
  'trojan',
  'naive',
  'shadowtls',
  'vless',
  'anytls',
  'hysteria',
  'tuic',
  'hysteria2',
])

export interface SingBoxEmulatorOptions {
  configPath: string
  /** Build tags; default: the official ones plus with_v2ray_api (a build sbq can meter). */
  tags?: readonly string[]
  /** How long the first instance has run already (a fresh start reads 0). */
  uptimeSeconds?: number
  signal?: NodeJS.Signals
}

interface SingBoxConfig {
  inbounds?: Array<{type?: string}>
  experimental?: {v2ray_api?: {listen?: string; stats?: {enabled?: boolean; users?: string[]}}}
}

export class SingBoxEmulator {
  readonly api: StubV2rayApi
  /** The config `sing-box run -c` was given; a harness may point it at a fresh copy. */
  configPath: string
  readonly tags: readonly string[]
  /** What sing-box logged: one line per refused reload. */
  readonly log: string[] = []
  /** Instances created so far: 1 after start, one more for each reload that took. */
  instances = 0
  private statsUsers = new Set<string>()
  private readonly signal: NodeJS.Signals
  private readonly onSignal = () => this.reload()

  private constructor(api: StubV2rayApi, options: SingBoxEmulatorOptions) {
    this.api = api
    this.configPath = options.configPath
    this.tags = options.tags ?? [...officialBuildTags, 'with_v2ray_api']
    this.signal = options.signal ?? 'SIGUSR2'
  }

  /** Starts on the config as `sing-box run` would, or throws what sing-box would exit with. */
  static async start(options: SingBoxEmulatorOptions): Promise<SingBoxEmulator> {
    const api = await StubV2rayApi.start({flavor: 'sing-box'})
    const emulator = new SingBoxEmulator(api, options)
    const config = emulator.check()
    if (typeof config === 'string') {
      await api.close()
      throw new Error(config)
    }
    emulator.create(config)
    api.uptimeSeconds = options.uptimeSeconds ?? 0
    process.on(emulator.signal, emulator.onSignal)
    return emulator
  }

  get address(): string {
    return this.api.address
  }

  /** The node's apply command: signals this process, which reloads the emulated sing-box. */
  get reloadCommand(): string {
    return `kill -${this.signal.replace(/^SIG/, '')} ${process.pid}`
  }

  get countedUsers(): string[] {
    return [...this.statsUsers]
  }

  /** cmd_run.go on SIGHUP: check first; a refused config is only logged and the instance keeps running. */
  reload(): void {
    const config = this.check()
    if (typeof config === 'string') {
      this.log.push(`ERROR reload service: ${config}`)
      return
    }
    this.create(config)
  }

  /** A connection of `user` moving bytes: counted only when the instance's stats.users lists the name. */
  addTraffic(user: string, uplink: number, downlink: number): void {
    if (this.statsUsers.has(user)) this.api.addTraffic(user, uplink, downlink)
  }

  async close(): Promise<void> {
    process.off(this.signal, this.onSignal)
    await this.api.close()
  }

  /** `check()`: the config decodes and `box.New` accepts it; the refusal as sing-box words it, or the config. */
  private check(): SingBoxConfig | string {
    let config: SingBoxConfig
    try {
      config = JSON.parse(readFileSync(this.configPath, 'utf8')) as SingBoxConfig
    } catch (error) {
      return `decode config at ${this.configPath}: ${(error as Error).message}`
    }
    for (const [index, inbound] of (config.inbounds ?? []).entries()) {
      if (!inboundTypes.has(inbound.type ?? '')) {
        return `decode config at ${this.configPath}: inbounds[${index}]: unknown inbound type: ${inbound.type ?? ''}`
      }
    }
    const v2rayApi = config.experimental?.v2ray_api
    if (v2rayApi?.listen && !this.tags.includes('with_v2ray_api')) {
      return 'create v2ray-server: v2ray api is not included in this build, rebuild with -tags with_v2ray_api'
    }
    return config
  }

  /** A new instance: a new stats service, so every counter is gone and the uptime counts from now. */
  private create(config: SingBoxConfig): void {
    for (const name of this.api.counterValues().keys()) this.api.deleteCounter(name)
    this.api.uptimeSeconds = 0
    const stats = config.experimental?.v2ray_api?.stats
    this.statsUsers = new Set(stats?.enabled ? (stats.users ?? []) : [])
    this.instances++
  }
}
