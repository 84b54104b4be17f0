import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {parse as parseYaml} from 'yaml'

import {
  clashSubscription,
  singBoxSubscription,
  type SubscriptionServer,
} from '../../src/lib/domain/subscription-configs.js'
import {
  profileTitle,
  profileTitleHeader,
  subscriptionFormat,
  subscriptionUserinfo,
} from '../../src/lib/domain/subscriptions.js'
import {readSingBoxShareInbounds} from '../../src/lib/proxies/shared/sing-box-config.js'
import {readXrayShareInbounds} from '../../src/lib/proxies/shared/xray-config.js'
import {alice} from '../support/fixture-users.js'
import {repoRoot} from '../support/paths.js'

const fixture = (name: string) => readFileSync(join(repoRoot, 'test', 'fixtures', name), 'utf8')
const address = {host: 'vpn.example.com'}
const servers: SubscriptionServer[] = [
  ...readXrayShareInbounds(fixture('xray-config.json')).map((inbound) => ({
    name: `x1-${inbound.tag}`,
    inbound,
    address,
  })),
  ...readSingBoxShareInbounds(fixture('sing-box-config.json')).map((inbound) => ({
    name: `sb-${inbound.tag}`,
    inbound,
    address,
  })),
]

type Keys = readonly string[]
/**
 * The JSON keys of sing-box's option structs (SagerNet/sing-box, option/*.go, read at 7df171ff): an outbound's
 * type and tag (outbound.go), ServerOptions' server and server_port, then each type's own options.
 */
const singBoxOutboundKeys: Record<string, Keys> = {
  vless: ['uuid', 'flow', 'network', 'tls', 'multiplex', 'transport', 'packet_encoding'],
  vmess: [
    'uuid',
    'security',
    'alter_id',
    'global_padding',
    'authenticated_length',
    'network',
    'tls',
    'packet_encoding',
    'multiplex',
    'transport',
  ],
  trojan: ['password', 'network', 'tls', 'multiplex', 'transport'],
  shadowsocks: ['method', 'password', 'plugin', 'plugin_opts', 'network', 'udp_over_tcp', 'multiplex'],
  hysteria2: [
    'server_ports',
    'hop_interval',
    'up_mbps',
    'down_mbps',
    'obfs',
    'password',
    'network',
    'tls',
    'brutal_debug',
  ],
  tuic: [
    'uuid',
    'password',
    'congestion_control',
    'udp_relay_mode',
    'udp_over_stream',
    'zero_rtt_handshake',
    'heartbeat',
    'network',
    'tls',
  ],
  anytls: ['tls', 'password', 'idle_session_check_interval', 'idle_session_timeout', 'min_idle_session'],
  selector: ['outbounds', 'default', 'interrupt_exist_connections'],
  direct: [],
}
/** tls.go OutboundTLSOptions (the part sbq could use), OutboundUTLSOptions, OutboundRealityOptions; v2ray_transport.go. */
const singBoxTlsKeys: Keys = ['enabled', 'disable_sni', 'server_name', 'insecure', 'alpn', 'utls', 'reality', 'ech']
const singBoxUtlsKeys: Keys = ['enabled', 'fingerprint']
const singBoxRealityKeys: Keys = ['enabled', 'public_key', 'short_id']
const singBoxTransportKeys: Record<string, Keys> = {
  ws: ['type', 'path', 'headers', 'max_early_data', 'early_data_header_name'],
  grpc: ['type', 'service_name', 'idle_timeout', 'ping_timeout', 'permit_without_stream'],
  httpupgrade: ['type', 'host', 'path', 'headers'],
  http: ['type', 'host', 'path', 'method', 'headers', 'idle_timeout', 'ping_timeout'],
}
const hysteria2ObfsKeys: Keys = ['type', 'password']

/** mihomo's adapter/outbound/*.go `proxy:` tags (MetaCubeX/mihomo, branch Meta, read at ccc3f84d; anytls.go at 22713c43). */
const clashProxyKeys: Record<string, Keys> = {
  anytls: [
    'name',
    'type',
    'server',
    'port',
    'password',
    'alpn',
    'sni',
    'ech-opts',
    'client-fingerprint',
    'skip-cert-verify',
    'fingerprint',
    'certificate',
    'private-key',
    'udp',
    'idle-session-check-interval',
    'idle-session-timeout',
    'min-idle-session',
  ],
  vless: [
    'name',
    'type',
    'server',
    'port',
    'uuid',
    'flow',
    'tls',
    'alpn',
    'udp',
    'packet-addr',
    'xudp',
    'packet-encoding',
    'network',
    'reality-opts',
    'http-opts',
    'h2-opts',
    'grpc-opts',
    'ws-opts',
    'ws-path',
    'ws-headers',
    'skip-cert-verify',
    'fingerprint',
    'servername',
    'client-fingerprint',
  ],
  vmess: [
    'name',
    'type',
    'server',
    'port',
    'uuid',
    'alterId',
    'cipher',
    'udp',
    'network',
    'tls',
    'alpn',
    'skip-cert-verify',
    'fingerprint',
    'servername',
    'reality-opts',
    'http-opts',
    'h2-opts',
    'grpc-opts',
    'ws-opts',
    'packet-addr',
    'xudp',
    'packet-encoding',
    'global-padding',
    'authenticated-length',
    'client-fingerprint',
  ],
  trojan: [
    'name',
    'type',
    'server',
    'port',
    'password',
    'alpn',
    'sni',
    'skip-cert-verify',
    'fingerprint',
    'udp',
    'network',
    'reality-opts',
    'grpc-opts',
    'ws-opts',
    'ss-opts',
    'client-fingerprint',
  ],
  ss: [
    'name',
    'type',
    'server',
    'port',
    'password',
    'cipher',
    'udp',
    'plugin',
    'plugin-opts',
    'udp-over-tcp',
    'udp-over-tcp-version',
    'client-fingerprint',
  ],
  hysteria2: [
    'name',
    'type',
    'server',
    'port',
    'ports',
    'hop-interval',
    'up',
    'down',
    'password',
    'obfs',
    'obfs-password',
    'sni',
    'skip-cert-verify',
    'fingerprint',
    'alpn',
    'ca',
    'ca-str',
    'cwnd',
    'udp-mtu',
  ],
  tuic: [
    'name',
    'type',
    'server',
    'port',
    'token',
    'uuid',
    'password',
    'ip',
    'heartbeat-interval',
    'alpn',
    'reduce-rtt',
    'request-timeout',
    'udp-relay-mode',
    'congestion-controller',
    'disable-sni',
    'max-udp-relay-packet-size',
    'fast-open',
    'max-open-streams',
    'cwnd',
    'skip-cert-verify',
    'fingerprint',
    'ca',
    'ca-str',
    'sni',
  ],
}
const clashRealityKeys: Keys = ['public-key', 'short-id']
const clashWsKeys: Keys = [
  'path',
  'headers',
  'max-early-data',
  'early-data-header-name',
  'v2ray-http-upgrade',
  'v2ray-http-upgrade-fast-open',
]
const clashGrpcKeys: Keys = ['grpc-service-name']

function assertKeys(object: unknown, allowed: Keys, where: string): void {
  assert.ok(object !== null && typeof object === 'object', `${where} is an object`)
  for (const key of Object.keys(object)) assert.ok(allowed.includes(key), `${where}: "${key}" is not a known key`)
}

describe('the sing-box subscription', () => {
  const config = singBoxSubscription(servers, alice) as {outbounds: Array<Record<string, unknown>>; route: unknown}

  it('has only keys sing-box option structs know, at every level', () => {
    assertKeys(config, ['outbounds', 'route'], 'the config')
    assertKeys(config.route, ['final'], 'route')
    for (const outbound of config.outbounds) {
      const type = outbound.type as string
      const own = singBoxOutboundKeys[type]
      assert.ok(own !== undefined, `outbound type ${type}`)
      const serverKeys = type === 'selector' || type === 'direct' ? [] : ['server', 'server_port']
      assertKeys(outbound, ['type', 'tag', ...serverKeys, ...own], `outbound ${String(outbound.tag)}`)
      if (outbound.tls !== undefined) {
        const tls = outbound.tls as Record<string, unknown>
        assertKeys(tls, singBoxTlsKeys, `${String(outbound.tag)}.tls`)
        if (tls.utls !== undefined) assertKeys(tls.utls, singBoxUtlsKeys, `${String(outbound.tag)}.tls.utls`)
        if (tls.reality !== undefined)
          assertKeys(tls.reality, singBoxRealityKeys, `${String(outbound.tag)}.tls.reality`)
      }
      if (outbound.transport !== undefined) {
        const transport = outbound.transport as {type: string}
        assertKeys(transport, singBoxTransportKeys[transport.type] ?? [], `${String(outbound.tag)}.transport`)
      }
      if (outbound.obfs !== undefined) assertKeys(outbound.obfs, hysteria2ObfsKeys, `${String(outbound.tag)}.obfs`)
    }
  })

  it('carries the user’s credentials to each server, behind a selector the route ends at', () => {
    const byTag = new Map(config.outbounds.map((outbound) => [outbound.tag, outbound]))
    const reality = byTag.get('x1-vless-reality')!
    assert.equal(reality.uuid, alice.credentials.uuid)
    assert.equal(reality.flow, 'xtls-rprx-vision')
    assert.deepEqual((reality.tls as {reality: unknown}).reality, {
      enabled: true,
      public_key: readXrayShareInbounds(fixture('xray-config.json'), {inbounds: ['vless-reality']})[0]!.publicKey,
      short_id: '0123456789abcdef',
    })
    assert.equal(byTag.get('sb-hy2-in')!.password, alice.credentials.password)
    assert.equal(byTag.get('sb-tuic-in')!.uuid, alice.credentials.uuid)
    assert.equal(byTag.get('x1-ss2022')!.password, `CUoM9IvUrrg8uTiJ638uyA==:${alice.credentials.password16}`)
    const selector = byTag.get('proxy')!
    assert.equal(selector.type, 'selector')
    assert.ok((selector.outbounds as string[]).includes('sb-anytls-in'))
    assert.ok(!byTag.has('sb-naive-in'), 'sing-box has no naive client')
    assert.deepEqual(config.route, {final: 'proxy'})
  })

  it('with no servers (a user who cannot connect) is still a valid config, routing direct', () => {
    assert.deepEqual(singBoxSubscription([], alice), {
      outbounds: [{type: 'direct', tag: 'direct'}],
      route: {final: 'direct'},
    })
  })
})

describe('the Clash subscription', () => {
  const text = `${JSON.stringify(clashSubscription(servers, alice), null, 2)}\n`

  it('parses as YAML into proxies with only keys mihomo knows, a group and a rule', () => {
    const config = parseYaml(text) as {
      proxies: Array<Record<string, unknown>>
      'proxy-groups': Array<Record<string, unknown>>
      rules: string[]
    }
    assertKeys(config, ['proxies', 'proxy-groups', 'rules'], 'the config')
    assert.ok(config.proxies.length >= 8, `${config.proxies.length} proxies`)
    for (const proxy of config.proxies) {
      const where = `proxy ${String(proxy.name)}`
      assertKeys(proxy, clashProxyKeys[proxy.type as string] ?? [], where)
      if (proxy['reality-opts'] !== undefined)
        assertKeys(proxy['reality-opts'], clashRealityKeys, `${where} reality-opts`)
      if (proxy['ws-opts'] !== undefined) assertKeys(proxy['ws-opts'], clashWsKeys, `${where} ws-opts`)
      if (proxy['grpc-opts'] !== undefined) assertKeys(proxy['grpc-opts'], clashGrpcKeys, `${where} grpc-opts`)
    }
    const names = config.proxies.map((proxy) => proxy.name)
    assert.equal(new Set(names).size, names.length, 'names are unique')
    assert.deepEqual(config['proxy-groups'], [{name: 'proxy', type: 'select', proxies: names}])
    assert.deepEqual(config.rules, ['MATCH,proxy'])
    const anytls = config.proxies.find((proxy) => proxy.name === 'sb-anytls-in')!
    assert.deepEqual([anytls.type, anytls.password], ['anytls', alice.credentials.password])
    const vmess = config.proxies.find((proxy) => proxy.name === 'x1-vmess-ws')!
    assert.deepEqual(
      [vmess.type, vmess.uuid, vmess.network, vmess['ws-opts']],
      ['vmess', alice.credentials.uuid, 'ws', {path: '/vm'}],
    )
  })
})

describe('subscription headers and formats', () => {
  it('picks the format from ?format=, else from the client', () => {
    assert.equal(subscriptionFormat(null, 'v2rayN/6.45'), 'base64')
    assert.equal(subscriptionFormat(null, 'clash-verge/v2.0.3'), 'clash')
    assert.equal(subscriptionFormat(null, 'mihomo/1.19'), 'clash')
    assert.equal(subscriptionFormat(null, 'SFA/1.11.0 (Android)'), 'sing-box')
    assert.equal(subscriptionFormat(null, 'sing-box 1.12.0'), 'sing-box')
    assert.equal(subscriptionFormat('clash', 'v2rayN/6.45'), 'clash')
    assert.equal(subscriptionFormat('yaml', ''), undefined)
  })

  it('writes subscription-userinfo with exact bytes and the expiry in seconds, 0 for none', () => {
    const big = 2 ** 53 - 1
    assert.equal(
      subscriptionUserinfo({periodUp: 1, periodDown: big, allowance: 0, packagesLeft: 0, expiresAt: null}),
      `upload=1; download=${big}; total=0; expire=0`,
    )
    assert.equal(
      subscriptionUserinfo({
        periodUp: 0,
        periodDown: 0,
        allowance: 5,
        packagesLeft: 0,
        expiresAt: '2024-06-30T00:00:00.000Z',
      }),
      'upload=0; download=0; total=5; expire=1719705600',
    )
  })

  it('counts traffic packages into the total, so what a client shows as left is what the user can still use', () => {
    // 5 allowed, 7 used (2 of them from packages), 10 left in packages: 10 left, of a total 17.
    assert.equal(
      subscriptionUserinfo({periodUp: 3, periodDown: 4, allowance: 5, packagesLeft: 10, expiresAt: null}),
      'upload=3; download=4; total=17; expire=0',
    )
    assert.equal(
      subscriptionUserinfo({periodUp: 1, periodDown: 1, allowance: 5, packagesLeft: 10, expiresAt: null}),
      'upload=1; download=1; total=15; expire=0',
    )
  })

  it('titles a limited user with the reason and the day a monthly limit lifts; non-ASCII goes as base64', () => {
    const title = profileTitle({
      name: 'alice',
      status: 'limited',
      statusReason: 'monthly allowance used: 10 of 5 bytes',
      periodEnd: '2024-06-01T00:00:00.000Z',
    })
    assert.equal(title, 'alice: limited (monthly allowance used: 10 of 5 bytes), back on 2024-06-01')
    assert.equal(profileTitleHeader('alice'), 'alice')
    assert.equal(profileTitleHeader('小明'), `base64:${Buffer.from('小明').toString('base64')}`)
  })
})
