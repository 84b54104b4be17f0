/**
 * The v2ray adapter against the real V2Ray 4.x: read stats, add a vmess user live, carry traffic as that user
 * through a second v2ray acting as client, see it counted, remove the user and see new connections refused.
 * Skipped when `v2ray` is not installed, except under CI, where its absence fails the test.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {type Server, createServer, get} from 'node:http'
import {createServer as createTcpServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {type TestContext, it} from 'node:test'
import {SbqError} from '../../src/lib/errors.js'
import type {InboundTarget, ManagedUser} from '../../src/lib/proxies/proxy-driver.js'
import {type V2rayApi, createV2rayApi} from '../../src/lib/proxies/shared/v2ray-api/index.js'

const payloadBytes = 200_000
const liveUser: ManagedUser = {
  name: 'sbq-live@example.test',
  credentials: {
    uuid: '6f1c2a3b-4d5e-4f60-8a71-b2c3d4e5f607',
    password: 'bGl2ZS10ZXN0LXBhc3N3b3JkLTMyLWJ5dGVzLWxvbmc=',
    password16: 'AAECAwQFBgcICQoLDA0ODw==',
  },
}
const vmessInbound: InboundTarget = {tag: 'vmess-in', protocol: 'vmess'}

function v2rayInstalled(): boolean {
  return spawnSync('v2ray', ['-version'], {stdio: 'ignore'}).status === 0
}

async function freePort(): Promise<number> {
  const server = createTcpServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  assert.ok(address !== null && typeof address === 'object')
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return address.port
}

function serverConfig(apiPort: number, vmessPort: number, vlessPort?: number): object {
  return {
    log: {loglevel: 'warning'},
    stats: {},
    api: {tag: 'api', services: ['StatsService', 'HandlerService']},
    policy: {
      levels: {'0': {statsUserUplink: true, statsUserDownlink: true}},
      system: {statsInboundUplink: true, statsInboundDownlink: true},
    },
    inbounds: [
      {tag: 'api', listen: '127.0.0.1', port: apiPort, protocol: 'dokodemo-door', settings: {address: '127.0.0.1'}},
      {tag: 'vmess-in', listen: '127.0.0.1', port: vmessPort, protocol: 'vmess', settings: {clients: []}},
      ...(vlessPort === undefined
        ? []
        : [
            {
              tag: 'vless-in',
              listen: '127.0.0.1',
              port: vlessPort,
              protocol: 'vless',
              settings: {clients: [], decryption: 'none'},
            },
          ]),
    ],
    outbounds: [{tag: 'direct', protocol: 'freedom'}],
    routing: {rules: [{type: 'field', inboundTag: ['api'], outboundTag: 'api'}]},
  }
}

/** A v2ray client that forwards `forwardPort` to the payload server through vmess as the live user. */
function clientConfig(
  forwardPort: number,
  vmessPort: number,
  payloadPort: number,
  protocol: 'vmess' | 'vless' = 'vmess',
): object {
  const user =
    protocol === 'vmess'
      ? {id: liveUser.credentials.uuid, alterId: 0}
      : {id: liveUser.credentials.uuid, encryption: 'none'}
  return {
    log: {loglevel: 'warning'},
    inbounds: [
      {
        listen: '127.0.0.1',
        port: forwardPort,
        protocol: 'dokodemo-door',
        settings: {address: '127.0.0.1', port: payloadPort, network: 'tcp'},
      },
    ],
    outbounds: [
      {
        protocol,
        settings: {vnext: [{address: '127.0.0.1', port: vmessPort, users: [user]}]},
      },
    ],
  }
}

function startV2ray(dir: string, name: string, config: object): ChildProcess {
  const path = join(dir, `${name}.json`)
  writeFileSync(path, JSON.stringify(config))
  const check = spawnSync('v2ray', ['-test', '-config', path], {encoding: 'utf8'})
  assert.equal(check.status, 0, `v2ray -test rejected ${name}.json: ${check.stdout}${check.stderr}`)
  return spawn('v2ray', ['-config', path], {stdio: 'ignore'})
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
}

/** GETs the payload through the client's forward port; resolves to the bytes received, rejects on failure. */
function fetchThrough(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get({host: '127.0.0.1', port, path: '/', agent: false, timeout: 3000}, (response) => {
      let received = 0
      response.on('data', (chunk: Buffer) => {
        received += chunk.length
      })
      response.on('end', () => resolve(received))
      response.on('error', reject)
    })
    request.on('timeout', () => request.destroy(new Error('timed out')))
    request.on('error', reject)
  })
}

async function eventually<T>(attempt: () => Promise<T>, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs
  for (;;) {
    try {
      return await attempt()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

interface Lab {
  payloadPort: number
  start(name: string, config: object): ChildProcess
  api(apiPort: number): V2rayApi
}

/** Runs `body` beside a payload server; stops every v2ray and API client it started, whatever happens. */
async function inLab(t: TestContext, body: (lab: Lab) => Promise<void>): Promise<void> {
  if (!v2rayInstalled()) {
    if (process.env['CI']) assert.fail('v2ray is not installed, and CI is set: install the v2ray package')
    t.skip('v2ray not installed')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'sbq-v2ray-live-'))
  const payload: Server = createServer((_request, response) => {
    response.writeHead(200, {'content-length': payloadBytes}).end(Buffer.alloc(payloadBytes, 0x61))
  })
  const children: ChildProcess[] = []
  const apis: V2rayApi[] = []
  try {
    await new Promise<void>((resolve) => payload.listen(0, '127.0.0.1', resolve))
    await body({
      payloadPort: (payload.address() as {port: number}).port,
      start: (name, config) => {
        const child = startV2ray(dir, name, config)
        children.push(child)
        return child
      },
      api: (apiPort) => {
        const api = createV2rayApi({flavor: 'v2ray', address: `127.0.0.1:${apiPort}`, timeoutMs: 3000})
        apis.push(api)
        return api
      },
    })
  } finally {
    for (const api of apis) api.close()
    for (const child of children.reverse()) await stop(child)
    payload.closeAllConnections()
    payload.close()
    rmSync(dir, {recursive: true, force: true})
  }
}

it('v2ray 4.x live: stats, add/remove a vmess user, traffic counted', {timeout: 60_000}, (t) =>
  inLab(t, async (lab) => {
    const [apiPort, vmessPort, forwardPort] = [await freePort(), await freePort(), await freePort()]
    lab.start('server', serverConfig(apiPort, vmessPort))
    const api = lab.api(apiPort)

    const first = await eventually(() => api.readStats(), 15_000)
    assert.equal(typeof first.uptimeSeconds, 'number')
    const names = first.counters.map((sample) => sample.name)
    assert.ok(names.includes('inbound>>>vmess-in>>>traffic>>>uplink'), names.join(', '))
    assert.ok(!names.some((name) => name.startsWith(`user>>>${liveUser.name}>>>`)))

    assert.ok(api.addUser && api.removeUser)
    await api.addUser(vmessInbound, liveUser)
    await api.addUser(vmessInbound, liveUser)

    lab.start('client', clientConfig(forwardPort, vmessPort, lab.payloadPort))
    const received = await eventually(() => fetchThrough(forwardPort), 15_000)
    assert.equal(received, payloadBytes)

    const after = await api.readStats()
    const downlink = after.counters.find((sample) => sample.name === `user>>>${liveUser.name}>>>traffic>>>downlink`)
    assert.ok(downlink !== undefined && downlink.value >= payloadBytes, `downlink counter: ${JSON.stringify(downlink)}`)
    assert.ok((after.uptimeSeconds ?? -1) >= (first.uptimeSeconds ?? 0))

    await api.removeUser(vmessInbound, liveUser.name)
    await api.removeUser(vmessInbound, liveUser.name)
    await assert.rejects(
      fetchThrough(forwardPort).then((bytes) => {
        if (bytes < payloadBytes) throw new Error(`only ${bytes} bytes: refused`)
        return bytes
      }),
    )

    await assert.rejects(
      api.addUser({tag: 'no-such-inbound', protocol: 'vmess'}, liveUser),
      (error: unknown) =>
        error instanceof SbqError && error.code === 'INBOUND_UNKNOWN' && error.message.includes('"no-such-inbound"'),
    )
  }),
)

it(
  'v2ray 4.x live: a vless user added live with no encryption on its account carries traffic',
  {timeout: 60_000},
  (t) =>
    inLab(t, async (lab) => {
      const [apiPort, vmessPort, vlessPort, forwardPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
      ]
      lab.start('server', serverConfig(apiPort, vmessPort, vlessPort))
      const api = lab.api(apiPort)
      await eventually(() => api.readStats(), 15_000)
      assert.ok(api.addUser)
      await api.addUser({tag: 'vless-in', protocol: 'vless'}, liveUser)
      lab.start('client', clientConfig(forwardPort, vlessPort, lab.payloadPort, 'vless'))
      assert.equal(await eventually(() => fetchThrough(forwardPort), 15_000), payloadBytes)
    }),
)
