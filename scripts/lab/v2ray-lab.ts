import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {startBytesServer, type BytesServer} from './bytes-server.js'
import {freeLoopbackPorts, LOOPBACK} from './loopback-ports.js'
import {socksHttpDownload} from './socks-download.js'
import {queryV2rayStats} from './v2ctl-stats.js'
import {clientConfig, serverConfig, type LabUser} from './v2ray-lab-configs.js'
import {findOnPath, findV2ctl, startV2ray, V2rayStartError, type V2rayProcess} from './v2ray-process.js'

export {DownloadRefusedError} from './socks-download.js'
export {parseV2ctlStats, queryV2rayStats} from './v2ctl-stats.js'
export {V2rayStartError} from './v2ray-process.js'
export type {LabUser} from './v2ray-lab-configs.js'

/** Whether `v2ray` is on PATH. */
export function v2rayAvailable(): boolean {
  return findOnPath('v2ray') !== undefined
}

/** Whether `v2ctl` (used by `lab.queryStats`) is installed beside v2ray or on PATH. */
export function v2ctlAvailable(): boolean {
  return findV2ctl() !== undefined
}

export interface LabOptions {
  /** Where the config files go; created if missing. The caller owns (and removes) it. */
  dir: string
  users: readonly LabUser[]
  /** V2Ray's vmess handshake timeout, which is how long a removed user's connection takes to fail. Default 1. */
  handshakeSeconds?: number
  /** Bound on each v2ray start, in ms. Default 10 000. */
  startTimeoutMs?: number
}

export interface DownloadOptions {
  /** Reject when no data arrives for this long. Default 4000 ms. */
  idleTimeoutMs?: number
  /** Reject when the whole download takes longer. Default 60 000 ms. */
  totalTimeoutMs?: number
}

export interface V2rayLab {
  readonly dir: string
  /** The server's config: rewrite it, then `restartServer()` to apply. */
  readonly serverConfigPath: string
  readonly clientConfigPath: string
  /** The server's gRPC API (StatsService, HandlerService), "127.0.0.1:PORT". */
  readonly apiAddress: string
  /** Tag of the server's vmess inbound, for HandlerService.AlterInbound. */
  readonly vmessInboundTag: string
  readonly vmessPort: number
  readonly httpPort: number
  /** The running server process; changes on every restart. */
  readonly serverPid: number
  readonly clientPid: number
  socksPort(userName: string): number
  /**
   * Fetch `bytes` bytes from the lab's HTTP server as `userName` and resolve with the count received (always
   * `bytes`). Rejects with DownloadRefusedError when the server no longer lets the user through.
   */
  download(userName: string, bytes: number, options?: DownloadOptions): Promise<number>
  /** The server's counters as `v2ctl` reports them (substring `pattern`, empty = all). */
  queryStats(pattern?: string): Promise<Map<string, number>>
  /** Stop the server and start it again from the config file's current contents; its counters restart at 0. */
  restartServer(): Promise<void>
  /** The tail of the server's stdout/stderr, for failure messages. */
  serverOutput(): string
  /** Stop both v2ray processes and the HTTP server. Safe to call more than once. */
  stop(): Promise<void>
}

const VMESS_TAG = 'vmess-in'
const PORT_ATTEMPTS = 3

function checkUsers(users: readonly LabUser[]): void {
  if (users.length === 0) throw new Error('a lab needs at least one user')
  const names = new Set(users.map((user) => user.name))
  if (names.size !== users.length) throw new Error('lab user names must be unique')
  if (names.has('')) throw new Error('lab user names must not be empty')
}

interface Processes {
  server: V2rayProcess
  client: V2rayProcess
  apiPort: number
  vmessPort: number
  socksPorts: Map<string, number>
}

/** Pick ports, write both configs, start both processes; the ports were only free when probed, hence the retries. */
async function launch(options: LabOptions, serverConfigPath: string, clientConfigPath: string): Promise<Processes> {
  const {users, handshakeSeconds = 1, startTimeoutMs = 10_000} = options
  for (let attempt = 1; ; attempt++) {
    const [apiPort, vmessPort, ...socks] = await freeLoopbackPorts(2 + users.length)
    if (apiPort === undefined || vmessPort === undefined) throw new Error('no free loopback ports')
    const perUser = users.map((user, i) => ({user, socksPort: socks[i] ?? 0}))
    const server = serverConfig({apiPort, vmessPort, vmessTag: VMESS_TAG, users, handshakeSeconds})
    await writeFile(serverConfigPath, `${JSON.stringify(server, null, 2)}\n`)
    await writeFile(clientConfigPath, `${JSON.stringify(clientConfig({vmessPort, users: perUser}), null, 2)}\n`)

    let serverProcess: V2rayProcess | undefined
    try {
      serverProcess = await startV2ray(serverConfigPath, startTimeoutMs)
      const client = await startV2ray(clientConfigPath, startTimeoutMs)
      const socksPorts = new Map(perUser.map(({user, socksPort}) => [user.name, socksPort]))
      return {server: serverProcess, client, apiPort, vmessPort, socksPorts}
    } catch (error) {
      await serverProcess?.stop()
      if (!(error instanceof V2rayStartError && error.portTaken && attempt < PORT_ATTEMPTS)) throw error
    }
  }
}

/** Start an HTTP payload server, a V2Ray server with `users` on a vmess inbound, and a V2Ray client in front of it. */
export async function startLab(options: LabOptions): Promise<V2rayLab> {
  checkUsers(options.users)
  await mkdir(options.dir, {recursive: true})
  const serverConfigPath = join(options.dir, 'server.json')
  const clientConfigPath = join(options.dir, 'client.json')
  const startTimeoutMs = options.startTimeoutMs ?? 10_000

  const http: BytesServer = await startBytesServer()
  let processes: Processes
  try {
    processes = await launch(options, serverConfigPath, clientConfigPath)
  } catch (error) {
    await http.close()
    throw error
  }
  let {server} = processes
  const {client, apiPort, vmessPort, socksPorts} = processes
  const apiAddress = `${LOOPBACK}:${apiPort}`
  let stopped = false

  const socksPort = (userName: string): number => {
    const port = socksPorts.get(userName)
    if (port === undefined) throw new Error(`no lab user named ${userName}`)
    return port
  }

  return {
    dir: options.dir,
    serverConfigPath,
    clientConfigPath,
    apiAddress,
    vmessInboundTag: VMESS_TAG,
    vmessPort,
    httpPort: http.port,
    get serverPid() {
      return server.pid
    },
    clientPid: client.pid,
    socksPort,
    download: (userName, bytes, downloadOptions = {}) =>
      socksHttpDownload({
        socksPort: socksPort(userName),
        host: LOOPBACK,
        port: http.port,
        path: `/bytes/${bytes}`,
        ...downloadOptions,
      }),
    queryStats: (pattern = '') => queryV2rayStats(apiAddress, pattern),
    async restartServer() {
      if (stopped) throw new Error('the lab is stopped')
      await server.stop()
      server = await startV2ray(serverConfigPath, startTimeoutMs)
    },
    serverOutput: () => server.output(),
    async stop() {
      stopped = true
      // Each step runs even if an earlier one fails: leaving a v2ray behind is worse than a lost error.
      const results = await Promise.allSettled([server.stop(), client.stop(), http.close()])
      const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')
      if (failure !== undefined) throw failure.reason
    },
  }
}
