import assert from 'node:assert/strict'
import {generateKeyPairSync} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {formatPublicHost, parsePublicHost, shareLink, type ShareInbound} from '../../src/lib/domain/share-links.js'
import type {SbqError} from '../../src/lib/errors.js'
import {driverOf} from '../../src/lib/proxies/registry.js'
import {readSingBoxShareInbounds} from '../../src/lib/proxies/shared/sing-box-config.js'
import {readXrayShareInbounds} from '../../src/lib/proxies/shared/xray-config.js'
import {realityPublicKey} from '../../src/lib/proxies/shared/xray-stream.js'
import {alice} from '../support/fixture-users.js'
import {repoRoot} from '../support/paths.js'
import {parseShareLink} from '../support/share-link-parser.js'

const xrayFixture = readFileSync(join(repoRoot, 'test', 'fixtures', 'xray-config.json'), 'utf8')
const v2rayFixture = readFileSync(join(repoRoot, 'test', 'fixtures', 'v2ray-config.json'), 'utf8')
const singBoxFixture = readFileSync(join(repoRoot, 'test', 'fixtures', 'sing-box-config.json'), 'utf8')

function linksOf(config: string, flavor: 'xray' | 'v2ray', host = 'vpn.example.com') {
  return readXrayShareInbounds(config, {flavor}).map((inbound) => shareLink(inbound, alice, {host}))
}

function linkOf(tag: string, config = xrayFixture) {
  const entry = linksOf(config, 'xray').find((candidate) => candidate.tag === tag)
  assert.ok(entry !== undefined && 'link' in entry, `a link for ${tag}: ${JSON.stringify(entry)}`)
  return parseShareLink(entry.link)
}

describe('share links from an Xray config, read back by a parser of the published formats', () => {
  it('vless over REALITY: uuid, port, sni, the public key of the private key, short id, fingerprint, flow', () => {
    const link = linkOf('vless-reality')
    assert.equal(link.scheme, 'vless')
    assert.equal(link.secret, alice.credentials.uuid)
    assert.equal(link.host, 'vpn.example.com')
    assert.equal(link.port, 443)
    assert.equal(link.remark, 'alice')
    assert.equal(link.params.security, 'reality')
    assert.equal(link.params.type, 'tcp')
    assert.equal(link.params.encryption, 'none')
    assert.equal(link.params.sni, 'www.example.com')
    assert.equal(link.params.sid, '0123456789abcdef')
    assert.equal(link.params.fp, 'chrome')
    assert.equal(link.params.pbk, realityPublicKey('UuMBgl7MXTPx9inmQp2UC7Jcnwc6XYbwDNebonM-FCc'))
    assert.match(link.params.pbk ?? '', /^[A-Za-z0-9_-]{43}$/)
    assert.equal(link.params.flow, 'xtls-rprx-vision')
  })

  it('vmess over WebSocket in v2rayN form: uuid, port, net ws, path, no TLS', () => {
    const link = linkOf('vmess-ws')
    assert.equal(link.scheme, 'vmess')
    assert.equal(link.secret, alice.credentials.uuid)
    assert.equal(link.port, 10001)
    assert.equal(link.remark, 'alice')
    assert.equal(link.params.v, '2')
    assert.equal(link.params.net, 'ws')
    assert.equal(link.params.path, '/vm')
    assert.equal(link.params.tls, '')
    assert.equal(link.params.aid, '0')
  })

  it('trojan: the password percent-encoded, read back whole', () => {
    const link = linkOf('trojan-tcp')
    assert.equal(link.scheme, 'trojan')
    assert.equal(link.secret, alice.credentials.password)
    assert.equal(link.port, 10002)
    assert.equal(link.params.type, 'tcp')
  })

  it('shadowsocks 2022 with several users: method, then the server key and the user key (SIP022, not base64)', () => {
    const link = linkOf('ss2022')
    assert.equal(link.scheme, 'ss')
    assert.equal(link.method, '2022-blake3-aes-128-gcm')
    assert.equal(link.secret, `CUoM9IvUrrg8uTiJ638uyA==:${alice.credentials.password16}`)
    assert.equal(link.port, 10003)
  })

  it("legacy shadowsocks: base64url userinfo (SIP002) with the client's own method", () => {
    const link = linkOf('ss-legacy')
    assert.equal(link.scheme, 'ss')
    assert.equal(link.secret, alice.credentials.password)
    assert.ok(link.method !== undefined && link.method.length > 0)
    assert.equal(link.port, 10004)
  })

  it('one link per managed inbound of a V2Ray 4 config, each read back to its inbound', () => {
    const links = linksOf(v2rayFixture, 'v2ray')
    assert.ok(links.length > 0)
    for (const entry of links) {
      assert.ok('link' in entry, JSON.stringify(entry))
      const parsed = parseShareLink(entry.link)
      assert.equal(parsed.remark, 'alice')
      assert.equal(parsed.host, 'vpn.example.com')
    }
  })

  it('an IPv6 public host goes in brackets, and a public port replaces the inbound’s', () => {
    const inbound = readXrayShareInbounds(xrayFixture, {inbounds: ['trojan-tcp']})[0]!
    const entry = shareLink(inbound, alice, {host: '2001:db8::7', port: 8443})
    assert.ok('link' in entry)
    assert.match(entry.link, /@\[2001:db8::7\]:8443\?/)
    const parsed = parseShareLink(entry.link)
    assert.equal(parsed.host, '2001:db8::7')
    assert.equal(parsed.port, 8443)
  })
})

describe('share links from a sing-box config, read back by a parser of the published formats', () => {
  const links = new Map(
    readSingBoxShareInbounds(singBoxFixture).map((inbound) => [
      inbound.tag,
      shareLink(inbound, alice, {host: 'sb.example.com'}),
    ]),
  )
  const parsed = (tag: string) => {
    const entry = links.get(tag)
    assert.ok(entry !== undefined && 'link' in entry, `a link for ${tag}: ${JSON.stringify(entry)}`)
    return parseShareLink(entry.link)
  }

  it('vless over REALITY: the public key of private_key, the first short_id, server_name as sni', () => {
    const link = parsed('vless-in')
    assert.equal(link.secret, alice.credentials.uuid)
    assert.equal(link.port, 443)
    assert.equal(link.params.security, 'reality')
    assert.equal(link.params.sni, 'www.example.com')
    assert.equal(link.params.pbk, realityPublicKey('UuMBgl7MXTPx9inmQp2UC7Jcnwc6XYbwDNebonM-FCc'))
    assert.equal(link.params.sid, '0123456789abcdef')
  })

  it('vmess over ws, trojan over TLS, shadowsocks 2022 with the server key', () => {
    const vmess = parsed('vmess-in')
    assert.deepEqual([vmess.params.net, vmess.params.path, vmess.port], ['ws', '/vm', 8443])
    const trojan = parsed('trojan-in')
    assert.deepEqual([trojan.secret, trojan.params.security], [alice.credentials.password, 'tls'])
    const ss = parsed('ss128-in')
    assert.equal(ss.secret, `CUoM9IvUrrg8uTiJ638uyA==:${alice.credentials.password16}`)
  })

  it("hysteria2: the user's password as auth, salamander obfuscation with its password, alpn", () => {
    const link = parsed('hy2-in')
    assert.equal(link.scheme, 'hysteria2')
    assert.equal(link.secret, alice.credentials.password)
    assert.equal(link.port, 8447)
    assert.equal(link.params.obfs, 'salamander')
    assert.equal(link.params['obfs-password'], 'obfs-secret')
    assert.equal(link.params.alpn, 'h3')
    assert.equal(link.remark, 'alice')
  })

  it('tuic: uuid and password, congestion control and alpn', () => {
    const link = parsed('tuic-in')
    assert.equal(link.scheme, 'tuic')
    assert.equal(link.secret, alice.credentials.uuid)
    assert.equal(link.password, alice.credentials.password)
    assert.equal(link.params.congestion_control, 'bbr')
    assert.equal(link.params.alpn, 'h3')
  })

  it('anytls: the password; naive: the user name and password over https', () => {
    const anytls = parsed('anytls-in')
    assert.deepEqual([anytls.scheme, anytls.secret, anytls.port], ['anytls', alice.credentials.password, 8448])
    const naive = parsed('naive-in')
    assert.deepEqual([naive.scheme, naive.secret, naive.password], ['naive+https', 'alice', alice.credentials.password])
  })

  it('hysteria (v1), shadowtls and local socks/http inbounds get a reason, not a link', () => {
    for (const tag of ['hysteria-in', 'shadowtls-in', 'socks-in', 'mixed-in']) {
      const entry = links.get(tag)
      assert.ok(entry !== undefined && 'reason' in entry, `${tag}: ${JSON.stringify(entry)}`)
    }
  })
})

describe('share links of a sing-box SSM node: the inbound its ssm-api serves', () => {
  const readSsm = driverOf({name: 'ssm1', type: 'sing-box-ssm'}).readShareInbounds!
  const withServers = (servers: Record<string, string>, extraInbound?: object) => {
    const config = JSON.parse(singBoxFixture) as {inbounds: object[]; services: Array<{servers: unknown}>}
    config.services[0]!.servers = servers
    if (extraInbound !== undefined) config.inbounds.unshift(extraInbound)
    return JSON.stringify(config)
  }

  it('is the shadowsocks 2022 inbound of the API path, with the server key before the user key', () => {
    const inbounds = readSsm(singBoxFixture, 'sing-box.json', undefined, '127.0.0.1:9090')
    assert.deepEqual(
      inbounds.map((inbound) => [inbound.tag, inbound.protocol, inbound.method]),
      [['ss-ssm', 'shadowsocks', '2022-blake3-aes-128-gcm']],
    )
    const entry = shareLink(inbounds[0]!, alice, {host: 'vpn.example.com'})
    assert.ok('link' in entry, JSON.stringify(entry))
    const link = parseShareLink(entry.link)
    assert.deepEqual([link.scheme, link.method, link.port], ['ss', '2022-blake3-aes-128-gcm', 8391])
    assert.equal(link.secret, `mAWUuVuxNH8TDRPDbcHdcA==:${alice.credentials.password16}`)
  })

  it('follows the servers map when the API URL names a path, not the first managed inbound', () => {
    const second = {
      type: 'shadowsocks',
      tag: 'ss-second',
      listen_port: 8392,
      method: '2022-blake3-aes-256-gcm',
      password: 'Jm9lYXJzdHJvbmdzZXJ2ZXJrZXlvZjMyYnl0ZXMhIQ==',
      managed: true,
    }
    const config = withServers({'/a': 'ss-ssm', '/b': 'ss-second'}, second)
    const tagsAt = (api: string) => readSsm(config, 'sing-box.json', undefined, api).map((inbound) => inbound.tag)
    assert.deepEqual(tagsAt('http://127.0.0.1:9090/a'), ['ss-ssm'])
    assert.deepEqual(tagsAt('http://127.0.0.1:9090/b/'), ['ss-second'])
    assert.deepEqual(tagsAt('127.0.0.1:9090'), ['ss-second'], 'no server at /: the first managed inbound')
  })

  it('says what to fix when no shadowsocks inbound is managed', () => {
    const config = JSON.parse(singBoxFixture) as {inbounds: Array<{managed?: boolean}>; services: unknown[]}
    for (const inbound of config.inbounds) delete inbound.managed
    config.services = []
    assert.throws(
      () => readSsm(JSON.stringify(config), 'sing-box.json', undefined, '127.0.0.1:9090'),
      (error: SbqError) => error.code === 'INBOUND_NOT_FOUND' && /ssm-api serves/.test(error.message),
    )
  })
})

describe('share links for transports and layers the fixtures lack', () => {
  const base: ShareInbound = {tag: 't', protocol: 'vless', port: 443, network: 'tcp', security: 'none'}

  it('grpc over TLS: serviceName, multi mode, alpn, sni; vmess puts the service name in path', () => {
    const inbound: ShareInbound = {
      ...base,
      network: 'grpc',
      serviceName: 'svc name',
      grpcMode: 'multi',
      security: 'tls',
      sni: 'cdn.example.com',
      alpn: ['h2', 'http/1.1'],
      fingerprint: 'firefox',
    }
    const vless = shareLink(inbound, alice, {host: 'a.example'})
    assert.ok('link' in vless)
    const parsed = parseShareLink(vless.link)
    assert.equal(parsed.params.serviceName, 'svc name')
    assert.equal(parsed.params.mode, 'multi')
    assert.equal(parsed.params.alpn, 'h2,http/1.1')
    assert.equal(parsed.params.sni, 'cdn.example.com')
    assert.equal(parsed.params.fp, 'firefox')
    const vmess = shareLink({...inbound, protocol: 'vmess'}, alice, {host: 'a.example'})
    assert.ok('link' in vmess)
    const json = parseShareLink(vmess.link).params
    assert.equal(json.net, 'grpc')
    assert.equal(json.path, 'svc name')
    assert.equal(json.type, 'multi')
    assert.equal(json.tls, 'tls')
  })

  it('a name with spaces and non-ASCII letters survives as the remark', () => {
    const entry = shareLink({...base, protocol: 'trojan'}, {...alice, name: 'bob & 小明'}, {host: 'a.example'})
    assert.ok('link' in entry)
    assert.equal(parseShareLink(entry.link).remark, 'bob & 小明')
  })

  it('a transport without a link form, and shadowsocks over ws, get a reason instead of a link', () => {
    const quic = shareLink({...base, network: 'quic'}, alice, {host: 'a.example'})
    assert.ok('reason' in quic && quic.reason.includes('"quic"'))
    const ssWs = shareLink({...base, protocol: 'shadowsocks', network: 'ws', method: 'aes-128-gcm'}, alice, {host: 'a'})
    assert.ok('reason' in ssWs)
  })
})

describe('realityPublicKey', () => {
  it("matches RFC 7748's X25519 test vector (Alice's keys)", () => {
    const privateKey = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex')
    const publicKey = Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex')
    assert.equal(realityPublicKey(privateKey.toString('base64url')), publicKey.toString('base64url'))
  })

  it('matches the public half of key pairs Node generates', () => {
    for (let round = 0; round < 5; round++) {
      const {privateKey, publicKey} = generateKeyPairSync('x25519')
      const d = privateKey.export({format: 'jwk'}).d!
      assert.equal(realityPublicKey(d), publicKey.export({format: 'jwk'}).x)
    }
  })

  it('gives nothing for a key that is not 32 bytes', () => {
    assert.equal(realityPublicKey('c2hvcnQ'), undefined)
  })
})

describe('parsePublicHost', () => {
  it('takes a name, an IPv4 or IPv6 address, each with or without a port', () => {
    assert.deepEqual(parsePublicHost('vpn.example.com'), {host: 'vpn.example.com'})
    assert.deepEqual(parsePublicHost('203.0.113.7:8443'), {host: '203.0.113.7', port: 8443})
    assert.deepEqual(parsePublicHost('[2001:db8::7]:443'), {host: '2001:db8::7', port: 443})
    assert.deepEqual(parsePublicHost('2001:db8::7'), {host: '2001:db8::7'})
    assert.equal(formatPublicHost({host: '2001:db8::7', port: 443}), '[2001:db8::7]:443')
  })

  it('refuses a URL, a path, a space and a port out of range', () => {
    for (const bad of [
      'https://vpn.example.com',
      'vpn.example.com/x',
      'vpn example',
      'a.example:0',
      'a.example:70000',
      '',
    ])
      assert.equal(parsePublicHost(bad), undefined, bad)
  })
})
