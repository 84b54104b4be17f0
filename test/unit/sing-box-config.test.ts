import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {SbqError} from '../../src/lib/errors.js'
import {mergeImportedUsers, shadowsocksKey} from '../../src/lib/proxies/shared/user-lists.js'
import {readSingBoxUsers, rewriteSingBoxUsers} from '../../src/lib/proxies/shared/sing-box-config.js'
import {assertUserName} from '../../src/lib/domain/user-name.js'
import {fixturesDir} from '../support/paths.js'
import {alice, bob, managedNames, singBoxFixtureUserTags} from '../support/fixture-users.js'

type Json = {[key: string]: unknown}

const fixture = readFileSync(join(fixturesDir, 'sing-box-config.json'), 'utf8')

const USER_TAGS = singBoxFixtureUserTags

function inbounds(config: Json): Json[] {
  return config['inbounds'] as Json[]
}

function inbound(config: Json, tag: string): Json {
  const found = inbounds(config).find((i) => i['tag'] === tag)
  assert.ok(found, `inbound ${tag}`)
  return found
}

function users(config: Json, tag: string): Json[] {
  return inbound(config, tag)['users'] as Json[]
}

function statsUsers(config: Json): unknown {
  return ((config['experimental'] as Json)['v2ray_api'] as Json)['stats'] as Json
}

/** The config minus what sbq owns: the managed inbounds' user lists and stats.users. */
function withoutManagedLists(text: string, tags: readonly string[]): Json {
  const config = JSON.parse(text) as Json
  for (const i of inbounds(config)) if (tags.includes(i['tag'] as string)) delete i['users']
  delete (statsUsers(config) as Json)['users']
  return config
}

function assertSbqError(code: string, exit: number, pattern?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof SbqError, `expected SbqError, got ${String(error)}`)
    assert.equal(error.code, code)
    assert.equal(error.exit, exit)
    if (pattern) assert.match(error.message, pattern)
    return true
  }
}

describe('readSingBoxUsers', () => {
  it('finds every inbound type that carries users, and skips the others', () => {
    const read = readSingBoxUsers(fixture)
    assert.deepEqual(
      read.inbounds.map((i) => i.tag),
      USER_TAGS,
    )
    assert.deepEqual(read.statsUsers, ['guest', 'alice', 'dave'])
  })

  it('reports each user with the credentials its protocol carries', () => {
    const byTag = new Map(readSingBoxUsers(fixture).inbounds.map((i) => [i.tag, i]))
    const vless = byTag.get('vless-in')
    assert.equal(vless?.flow, 'xtls-rprx-vision')
    assert.deepEqual(vless?.users[1], {name: 'alice', credentials: {uuid: alice.credentials.uuid}})
    assert.deepEqual(byTag.get('ss128-in')?.users, [
      {name: 'alice', credentials: {password16: alice.credentials.password16}},
    ])
    assert.equal(byTag.get('ss128-in')?.method, '2022-blake3-aes-128-gcm')
    assert.deepEqual(byTag.get('tuic-in')?.users[0]?.credentials, {
      uuid: alice.credentials.uuid,
      password: alice.credentials.password,
    })
    assert.deepEqual(byTag.get('hysteria-in')?.users, [{name: 'guest', credentials: {password: 'guest-auth'}}])
    assert.deepEqual(
      byTag.get('naive-in')?.users.map((u) => u.name),
      ['guest', 'alice'],
    )
    assert.deepEqual(byTag.get('http-in')?.users, [])
  })

  it('merges a user found in several inbounds into one, naming conflicting fields', () => {
    const merged = mergeImportedUsers(readSingBoxUsers(fixture).inbounds)
    const a = merged.find((u) => u.name === 'alice')
    assert.deepEqual(a?.credentials, alice.credentials)
    assert.deepEqual(a?.conflicts, [])
    assert.ok(a?.inbounds.includes('naive-in') && a.inbounds.includes('ss128-in'))
    const guest = merged.find((u) => u.name === 'guest')
    assert.deepEqual(guest?.conflicts, ['password'])
    assert.equal(guest?.credentials.password, 'not-base64-but-fine')
  })

  it('reads only the named inbounds, and refuses a tag that is missing or has no user list', () => {
    assert.deepEqual(
      readSingBoxUsers(fixture, {inbounds: ['hy2-in']}).inbounds.map((i) => i.tag),
      ['hy2-in'],
    )
    assert.throws(
      () => readSingBoxUsers(fixture, {inbounds: ['nope'], source: '/etc/sing-box/config.json'}),
      assertSbqError('INBOUND_NOT_FOUND', 4, /inbound "nope" is not in sing-box config "\/etc\/sing-box\/config.json"/),
    )
    assert.throws(
      () => readSingBoxUsers(fixture, {inbounds: ['dns-in']}),
      assertSbqError('INBOUND_UNSUPPORTED', 4, /"direct"/),
    )
    assert.throws(
      () => readSingBoxUsers(fixture, {inbounds: ['ss-ssm']}),
      assertSbqError('INBOUND_UNSUPPORTED', 4, /managed: true/),
    )
  })
})

describe('rewriteSingBoxUsers', () => {
  const result = rewriteSingBoxUsers(fixture, {desired: [bob, alice], managedNames})
  const after = JSON.parse(result.text) as Json

  it('changes nothing but the managed user lists and stats.users', () => {
    assert.equal(result.changed, true)
    assert.deepEqual(withoutManagedLists(result.text, USER_TAGS), withoutManagedLists(fixture, USER_TAGS))
    // The untouched inbounds keep every key, including the ssm-managed one's lack of users.
    for (const tag of ['ss-ssm', 'dns-in', 'tun-in'])
      assert.deepEqual(inbound(after, tag), inbound(JSON.parse(fixture) as Json, tag))
  })

  it('keeps unmanaged users first, in order, then the desired users sorted by name; inactive managed users go', () => {
    assert.deepEqual(
      users(after, 'vless-in').map((u) => u['name']),
      ['guest', 'alice', 'bob'],
    )
    assert.deepEqual(
      users(after, 'trojan-in').map((u) => u['name']),
      ['guest', 'alice', 'bob'],
    )
    assert.deepEqual(users(after, 'trojan-in')[0], {name: 'guest', password: 'not-base64-but-fine'})
    assert.deepEqual(
      users(after, 'socks-in').map((u) => u['username']),
      ['alice', 'bob'],
    )
    assert.deepEqual((statsUsers(after) as Json)['users'], ['guest', 'alice', 'bob'])
  })

  it('puts a user with an inbound choice only on the chosen inbounds; stats.users still counts them', () => {
    const chosen = rewriteSingBoxUsers(fixture, {desired: [{...alice, inbounds: ['trojan-in']}, bob], managedNames})
    const config = JSON.parse(chosen.text) as Json
    assert.deepEqual(
      users(config, 'vless-in').map((u) => u['name']),
      ['guest', 'bob'],
    )
    assert.deepEqual(
      users(config, 'trojan-in').map((u) => u['name']),
      ['guest', 'alice', 'bob'],
    )
    assert.deepEqual((statsUsers(config) as Json)['users'], ['guest', 'alice', 'bob'])
  })

  it('gives each inbound type its own user shape and no key of its own', () => {
    const b = (tag: string): Json | undefined =>
      users(after, tag).find((u) => u['name'] === 'bob' || u['username'] === 'bob')
    const c = bob.credentials
    assert.deepEqual(b('vless-in'), {name: 'bob', uuid: c.uuid, flow: 'xtls-rprx-vision'})
    assert.deepEqual(b('vmess-in'), {name: 'bob', uuid: c.uuid, alterId: 0})
    assert.deepEqual(b('trojan-in'), {name: 'bob', password: c.password})
    assert.deepEqual(b('ss128-in'), {name: 'bob', password: c.password16})
    assert.deepEqual(b('ss256-in'), {name: 'bob', password: c.password})
    assert.deepEqual(b('ss-chacha-in'), {name: 'bob', password: c.password})
    assert.deepEqual(b('tuic-in'), {name: 'bob', uuid: c.uuid, password: c.password})
    assert.deepEqual(b('hysteria-in'), {name: 'bob', auth_str: c.password})
    assert.deepEqual(b('hy2-in'), {name: 'bob', password: c.password})
    assert.deepEqual(b('anytls-in'), {name: 'bob', password: c.password})
    assert.deepEqual(b('shadowtls-in'), {name: 'bob', password: c.password})
    for (const tag of ['naive-in', 'socks-in', 'http-in', 'mixed-in'])
      assert.deepEqual(b(tag), {username: 'bob', password: c.password})
  })

  it('picks the shadowsocks key length from the method', () => {
    assert.equal(shadowsocksKey('2022-blake3-aes-128-gcm', bob.credentials), bob.credentials.password16)
    assert.equal(shadowsocksKey('2022-blake3-aes-256-gcm', bob.credentials), bob.credentials.password)
    assert.equal(shadowsocksKey('2022-blake3-chacha20-poly1305', bob.credentials), bob.credentials.password)
    assert.equal(shadowsocksKey('aes-128-gcm', bob.credentials), bob.credentials.password)
  })

  it('is idempotent: a second rewrite changes nothing and returns the same text', () => {
    const again = rewriteSingBoxUsers(result.text, {desired: [alice, bob], managedNames})
    assert.equal(again.changed, false)
    assert.equal(again.text, result.text)
    assert.deepEqual(again.changedInbounds, [])
  })

  it('keeps the bytes outside the managed lists, and writes 2-space JSON', () => {
    for (const block of ['"dns": {', '"route": {', '"endpoints": [', '"services": [']) {
      const start = fixture.indexOf(block)
      // Up to the block's closing bracket at top-level indentation.
      const close = /\n {2}[\]}]/g
      close.lastIndex = start
      const end = close.exec(fixture)?.index ?? -1
      assert.ok(start > 0 && end > start)
      assert.ok(result.text.includes(fixture.slice(start, end + 4)), `${block} kept byte for byte`)
    }
    assert.match(
      result.text,
      /\n {8}\{\n {10}"name": "bob",\n {10}"uuid": "fb1e35c2-e4b4-49fd-b286-0552d6b84770",\n {10}"flow": "xtls-rprx-vision"\n {8}\}/,
    )
  })

  it('touches only the named inbounds (and stats.users)', () => {
    const only = rewriteSingBoxUsers(fixture, {inbounds: ['vmess-in'], desired: [bob, alice], managedNames})
    assert.deepEqual(only.changedInbounds, ['vmess-in'])
    assert.equal(only.statsUsersChanged, true)
    const config = JSON.parse(only.text) as Json
    assert.deepEqual(users(config, 'vless-in'), users(JSON.parse(fixture) as Json, 'vless-in'))
    assert.deepEqual(
      users(config, 'vmess-in').map((u) => u['name']),
      ['alice', 'bob'],
    )
  })

  it('reports no change when the config already says it', () => {
    const text =
      '{"inbounds": [{"type": "trojan", "tag": "t", "users": [{"name": "bob", "password": "3nbCxDBn/4F/pEaPipUgbaTEDKqI/HOME8IO3qMaVmU="}]}]}'
    const same = rewriteSingBoxUsers(text, {desired: [bob], managedNames})
    assert.deepEqual(same, {text, changed: false, changedInbounds: [], statsUsersChanged: false})
  })

  it('adds a users list to a named inbound that has none, indented like its neighbours', () => {
    const text =
      '{\n  "inbounds": [\n    {\n      "type": "vless",\n      "tag": "v",\n      "listen_port": 443\n    }\n  ]\n}\n'
    const out = rewriteSingBoxUsers(text, {inbounds: ['v'], desired: [bob], managedNames})
    assert.equal(
      out.text,
      '{\n  "inbounds": [\n    {\n      "type": "vless",\n      "tag": "v",\n      "listen_port": 443,\n      "users": [\n        {\n          "name": "bob",\n          "uuid": "fb1e35c2-e4b4-49fd-b286-0552d6b84770"\n        }\n      ]\n    }\n  ]\n}\n',
    )
  })

  it('uses a caller-given vless flow over the one the users carry', () => {
    const out = rewriteSingBoxUsers(fixture, {
      inbounds: ['vless-in'],
      desired: [bob],
      managedNames,
      flows: {'vless-in': ''},
    })
    assert.deepEqual(users(JSON.parse(out.text) as Json, 'vless-in').at(-1), {name: 'bob', uuid: bob.credentials.uuid})
  })

  it('keeps comments outside the user lists', () => {
    const text =
      '{\n  // managed by hand\n  "inbounds": [\n    {"type": "trojan", "tag": "t", /* port */ "listen_port": 1, "users": []} # end\n  ]\n}\n'
    const out = rewriteSingBoxUsers(text, {desired: [bob], managedNames})
    assert.ok(out.text.includes('// managed by hand') && out.text.includes('/* port */') && out.text.includes('# end'))
    assert.deepEqual(
      readSingBoxUsers(out.text).inbounds[0]?.users.map((u) => u.name),
      ['bob'],
    )
  })

  it('keeps number spellings and escapes that a parse-and-print round trip would change', () => {
    const head = '{"route": {"mark": 12345678901234567890, "ratio": 1.50e3, "note": "caf\\u00e9 \\/"},'
    const text = `${head} "inbounds": [{"type": "anytls", "tag": "a", "users": []}]}`
    const out = rewriteSingBoxUsers(text, {desired: [bob], managedNames})
    assert.ok(out.text.startsWith(head))
  })

  it('refuses a config that does not parse, naming the line', () => {
    const broken = fixture.replace('"listen_port": 8443,', '"listen_port": 8443')
    assert.throws(
      () => rewriteSingBoxUsers(broken, {desired: [bob], managedNames, source: '/etc/sing-box/config.json'}),
      assertSbqError(
        'CONFIG_INVALID',
        4,
        /^sing-box config "\/etc\/sing-box\/config.json" is not valid JSON at line \d+, column \d+: [^(]*$/,
      ),
    )
    assert.throws(
      () => rewriteSingBoxUsers('{"inbounds": [],}', {desired: [], managedNames}),
      assertSbqError('CONFIG_INVALID', 4),
    )
  })

  it('refuses a named tag that does not exist, before changing anything', () => {
    assert.throws(
      () => rewriteSingBoxUsers(fixture, {inbounds: ['vless-in', 'gone'], desired: [bob], managedNames}),
      assertSbqError('INBOUND_NOT_FOUND', 4, /inbound "gone"/),
    )
  })

  it('refuses an ambiguous duplicated key on the way to a user list', () => {
    const text = '{"inbounds": [{"type": "trojan", "tag": "t", "users": [], "users": []}]}'
    assert.throws(
      () => rewriteSingBoxUsers(text, {desired: [bob], managedNames}),
      assertSbqError('CONFIG_INVALID', 4, /"users" twice/),
    )
  })
})

describe('rewriteSingBoxUsers: an inbound left with no user gets the locked placeholder', () => {
  const placeholderName = 'sbq~locked'
  const everyone = new Set([...managedNames, 'guest'])
  const emptied = rewriteSingBoxUsers(fixture, {desired: [], managedNames: everyone})
  const config = JSON.parse(emptied.text) as Json
  const only = (tag: string): Json => {
    const list = users(config, tag)
    assert.equal(list.length, 1, `${tag} holds exactly one user`)
    return list[0]!
  }
  const keyBytes = (key: unknown): number => Buffer.from(String(key), 'base64').length
  const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

  it('is named so that no sbq user can ever be called the same', () => {
    assert.throws(
      () => assertUserName(placeholderName),
      (error: unknown) => error instanceof SbqError && error.code === 'INVALID_NAME',
    )
  })

  it('never writes an empty user list: each inbound type gets one placeholder of its own shape', () => {
    for (const tag of USER_TAGS) {
      const user = only(tag)
      const type = inbound(config, tag)['type'] as string
      const nameKey = ['naive', 'socks', 'http', 'mixed'].includes(type) ? 'username' : 'name'
      assert.equal(user[nameKey], placeholderName, tag)
    }
    const keys = (tag: string) => Object.keys(only(tag)).sort()
    assert.deepEqual(keys('vless-in'), ['flow', 'name', 'uuid'])
    assert.equal(only('vless-in')['flow'], 'xtls-rprx-vision', 'a vless placeholder carries the flow the inbound uses')
    assert.deepEqual(keys('vmess-in'), ['alterId', 'name', 'uuid'])
    assert.deepEqual(keys('tuic-in'), ['name', 'password', 'uuid'])
    assert.deepEqual(keys('hysteria-in'), ['auth_str', 'name'])
    for (const tag of ['trojan-in', 'ss128-in', 'ss256-in', 'ss-chacha-in', 'hy2-in', 'anytls-in', 'shadowtls-in'])
      assert.deepEqual(keys(tag), ['name', 'password'], tag)
    for (const tag of ['naive-in', 'socks-in', 'http-in', 'mixed-in'])
      assert.deepEqual(keys(tag), ['password', 'username'], tag)
    for (const tag of ['vless-in', 'vmess-in', 'tuic-in']) assert.match(String(only(tag)['uuid']), uuidPattern, tag)
    assert.equal(keyBytes(only('ss128-in')['password']), 16, '2022-blake3-aes-128-gcm takes a 16-byte key')
    assert.equal(keyBytes(only('ss256-in')['password']), 32, '2022-blake3-aes-256-gcm takes a 32-byte key')
    assert.ok(String(only('socks-in')['password']).length >= 32, 'a socks password nobody can guess')
  })

  it('keeps the placeholder out of the counted names and of what sbq reads back as users', () => {
    assert.deepEqual((statsUsers(config) as Json)['users'], [])
    for (const found of readSingBoxUsers(emptied.text).inbounds) assert.deepEqual(found.users, [], found.tag)
  })

  it("gives each rewrite a new secret, none of them a real user's", () => {
    const other = JSON.parse(rewriteSingBoxUsers(fixture, {desired: [], managedNames: everyone}).text) as Json
    assert.notEqual(users(other, 'trojan-in')[0]!['password'], only('trojan-in')['password'])
    const realSecrets = new Set([...Object.values(alice.credentials), ...Object.values(bob.credentials)])
    for (const tag of USER_TAGS)
      for (const value of Object.values(only(tag))) assert.ok(!realSecrets.has(value as string), tag)
  })

  it('keeps the placeholder byte for byte while the inbound stays empty (no needless reload)', () => {
    const again = rewriteSingBoxUsers(emptied.text, {desired: [], managedNames: everyone})
    assert.deepEqual([again.changed, again.text === emptied.text, again.changedInbounds], [false, true, []])
  })

  it('removes the placeholder as soon as a real user is back, and never adds one beside an unmanaged user', () => {
    const back = JSON.parse(rewriteSingBoxUsers(emptied.text, {desired: [bob], managedNames: everyone}).text) as Json
    for (const tag of USER_TAGS) {
      const list = users(back, tag)
      assert.equal(list.length, 1, tag)
      assert.ok(list[0]!['name'] === 'bob' || list[0]!['username'] === 'bob', tag)
    }
    assert.deepEqual((statsUsers(back) as Json)['users'], ['bob'])
    // guest is not sbq's: the inbounds that still carry guest need no placeholder, the others get one.
    const withGuest = JSON.parse(rewriteSingBoxUsers(fixture, {desired: [], managedNames}).text) as Json
    assert.deepEqual(
      users(withGuest, 'trojan-in').map((u) => u['name']),
      ['guest'],
    )
    assert.deepEqual(
      users(withGuest, 'vmess-in').map((u) => u['name']),
      [placeholderName],
    )
  })

  it('writes a new placeholder when the old one no longer fits the inbound (its method changed)', () => {
    const to256 = emptied.text.replace(
      '"method": "2022-blake3-aes-128-gcm",\n      "password"',
      '"method": "2022-blake3-aes-256-gcm",\n      "password"',
    )
    assert.notEqual(to256, emptied.text)
    const out = rewriteSingBoxUsers(to256, {inbounds: ['ss128-in'], desired: [], managedNames: everyone})
    assert.equal(out.changed, true)
    assert.equal(keyBytes(users(JSON.parse(out.text) as Json, 'ss128-in')[0]!['password']), 32)
  })
})
