import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it, type TestContext} from 'node:test'
import {SbqError} from '../../src/lib/errors.js'
import {findValidator} from '../../src/lib/proxies/shared/find-validator.js'
import {mergeImportedUsers} from '../../src/lib/proxies/shared/user-lists.js'
import {readXrayUsers, rewriteXrayUsers} from '../../src/lib/proxies/shared/xray-config.js'
import {fixturesDir} from '../support/paths.js'
import {rejectsWith} from '../support/assertions.js'
import {alice, bob, managedNames} from '../support/fixture-users.js'

type Json = {[key: string]: unknown}

const xrayFixture = readFileSync(join(fixturesDir, 'xray-config.json'), 'utf8')
const v2rayFixture = readFileSync(join(fixturesDir, 'v2ray-config.json'), 'utf8')

const XRAY_TAGS = ['vless-reality', 'vmess-ws', 'trojan-tcp', 'ss2022', 'ss-legacy']
const V2RAY_TAGS = ['vmess-in', 'vless-in', 'trojan-in']

function clients(config: Json, tag: string): Json[] {
  const inbound = (config['inbounds'] as Json[]).find((i) => i['tag'] === tag)
  assert.ok(inbound, `inbound ${tag}`)
  return (inbound['settings'] as Json)['clients'] as Json[]
}

function withoutManagedClients(text: string, tags: readonly string[]): Json {
  const config = JSON.parse(text) as Json
  for (const inbound of config['inbounds'] as Json[]) {
    if (tags.includes(inbound['tag'] as string)) delete (inbound['settings'] as Json)['clients']
  }
  return config
}

const isSbqError = (code: string, pattern?: RegExp) => rejectsWith(code, 4, pattern)

/** Runs the real `v2ray -test` on the text; skipped where v2ray is not installed, except under CI. */
function assertV2rayAccepts(t: TestContext, text: string): void {
  const validator = findValidator('v2ray')
  if (validator === null) {
    assert.equal(process.env['CI'], undefined, 'v2ray must be on PATH in CI')
    t.skip('v2ray is not on PATH')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'sbq-xray-config-'))
  try {
    const file = join(dir, 'config.json')
    writeFileSync(file, text)
    const run = spawnSync(validator.command[0]!, [...validator.command.slice(1), file], {encoding: 'utf8'})
    assert.equal(run.status, 0, run.stdout + run.stderr)
    assert.match(run.stdout, /Configuration OK/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

describe('readXrayUsers', () => {
  it("takes a vless inbound's own settings.flow as the flow for clients without one (Xray infra/conf/vless.go, since 2025-08)", () => {
    const config = {
      inbounds: [
        {
          tag: 'vision',
          protocol: 'vless',
          settings: {
            decryption: 'none',
            flow: 'xtls-rprx-vision',
            clients: [{id: alice.credentials.uuid, email: 'alice'}],
          },
        },
      ],
    }
    const read = readXrayUsers(JSON.stringify(config))
    assert.equal(read[0]?.flow, 'xtls-rprx-vision')
    const rewritten = rewriteXrayUsers(JSON.stringify(config), {flavor: 'xray', desired: [alice, bob], managedNames})
    assert.equal(rewritten.inbounds[0]?.flow, 'xtls-rprx-vision')
  })

  it('finds the client inbounds and skips the api dokodemo-door and socks', () => {
    const read = readXrayUsers(xrayFixture)
    assert.deepEqual(
      read.map((i) => i.tag),
      XRAY_TAGS,
    )
    const byTag = new Map(read.map((i) => [i.tag, i]))
    assert.equal(byTag.get('vless-reality')?.flow, 'xtls-rprx-vision')
    assert.equal(byTag.get('ss2022')?.method, '2022-blake3-aes-128-gcm')
    assert.equal(byTag.get('ss-legacy')?.method, 'aes-256-gcm')
    assert.deepEqual(byTag.get('ss2022')?.users, [
      {name: 'alice', credentials: {password16: alice.credentials.password16}},
    ])
    assert.deepEqual(byTag.get('vmess-ws')?.users, [{name: 'alice', credentials: {uuid: alice.credentials.uuid}}])
  })

  it('merges one email across inbounds', () => {
    const merged = mergeImportedUsers(readXrayUsers(xrayFixture))
    assert.deepEqual(
      merged.map((u) => u.name),
      ['guest', 'alice', 'dave'],
    )
    const a = merged.find((u) => u.name === 'alice')
    assert.deepEqual(a?.credentials, {uuid: alice.credentials.uuid, password16: alice.credentials.password16})
    assert.deepEqual(a?.inbounds, ['vless-reality', 'vmess-ws', 'ss2022'])
  })

  it('leaves out the single-user V2Ray shadowsocks inbound, and refuses it when named', () => {
    assert.deepEqual(
      readXrayUsers(v2rayFixture, {flavor: 'v2ray'}).map((i) => i.tag),
      V2RAY_TAGS,
    )
    assert.throws(
      () => readXrayUsers(v2rayFixture, {flavor: 'v2ray', inbounds: ['ss-in']}),
      isSbqError('INBOUND_UNSUPPORTED', /single user/),
    )
    assert.throws(
      () => readXrayUsers(xrayFixture, {inbounds: ['api-in']}),
      isSbqError('INBOUND_UNSUPPORTED', /dokodemo-door/),
    )
    assert.throws(
      () => readXrayUsers(xrayFixture, {inbounds: ['missing']}),
      isSbqError('INBOUND_NOT_FOUND', /inbound "missing"/),
    )
  })
})

describe('rewriteXrayUsers (Xray)', () => {
  const result = rewriteXrayUsers(xrayFixture, {desired: [bob, alice], managedNames})
  const after = JSON.parse(result.text) as Json

  it('changes nothing but the managed client lists', () => {
    assert.equal(result.changed, true)
    assert.deepEqual(withoutManagedClients(result.text, XRAY_TAGS), withoutManagedClients(xrayFixture, XRAY_TAGS))
    assert.deepEqual(result.changedInbounds, XRAY_TAGS)
  })

  it('keeps unmanaged clients and writes each protocol its client shape', () => {
    const c = bob.credentials
    assert.deepEqual(clients(after, 'vless-reality'), [
      {id: '49222dec-9f67-48ad-bdd9-e2a0632a0892', flow: 'xtls-rprx-vision', email: 'guest', level: 0},
      {id: alice.credentials.uuid, flow: 'xtls-rprx-vision', email: 'alice', level: 0},
      {id: c.uuid, flow: 'xtls-rprx-vision', email: 'bob', level: 0},
    ])
    assert.deepEqual(clients(after, 'vmess-ws').at(-1), {id: c.uuid, email: 'bob', level: 0})
    assert.deepEqual(
      clients(after, 'trojan-tcp').map((x) => x['email']),
      ['guest', 'alice', 'bob'],
    )
    assert.deepEqual(clients(after, 'trojan-tcp').at(-1), {password: c.password, email: 'bob', level: 0})
    assert.deepEqual(clients(after, 'ss2022').at(-1), {password: c.password16, email: 'bob'})
    assert.deepEqual(clients(after, 'ss-legacy').at(-1), {
      password: c.password,
      method: 'aes-256-gcm',
      email: 'bob',
      level: 0,
    })
  })

  it('puts a user with an inbound choice only on the chosen inbounds, and an inbound left empty gets the placeholder', () => {
    const chosen = {...alice, inbounds: ['vmess-ws', 'trojan-tcp']}
    const onlyVless = {...bob, inbounds: ['vless-reality']}
    const rewritten = rewriteXrayUsers(xrayFixture, {desired: [chosen, onlyVless], managedNames})
    const config = JSON.parse(rewritten.text) as Json
    const managedOn = (tag: string) =>
      clients(config, tag)
        .map((client) => client['email'])
        .filter((email) => email === 'alice' || email === 'bob')
    assert.deepEqual(
      XRAY_TAGS.map((tag) => [tag, managedOn(tag)]),
      [
        ['vless-reality', ['bob']],
        ['vmess-ws', ['alice']],
        ['trojan-tcp', ['alice']],
        ['ss2022', []],
        ['ss-legacy', []],
      ],
    )
    assert.ok(clients(config, 'ss2022').length > 0, 'an inbound is never left without a client')
  })

  it('is idempotent', () => {
    const again = rewriteXrayUsers(result.text, {desired: [alice, bob], managedNames})
    assert.equal(again.changed, false)
    assert.equal(again.text, result.text)
  })

  it('keeps comments (Xray reads JSON with comments)', () => {
    const text =
      '{\n  // api first\n  "inbounds": [\n    {"tag": "t", "protocol": "trojan", "settings": {"clients": []}} # trojan\n  ]\n}\n'
    const out = rewriteXrayUsers(text, {desired: [bob], managedNames})
    assert.ok(out.text.includes('// api first') && out.text.includes('# trojan'))
    assert.deepEqual(
      readXrayUsers(out.text)[0]?.users.map((u) => u.name),
      ['bob'],
    )
  })

  it('adds a settings block to a named inbound that has none', () => {
    const text = '{"inbounds": [{"tag": "v", "protocol": "VMess", "port": 1}]}'
    const out = rewriteXrayUsers(text, {inbounds: ['v'], desired: [bob], managedNames})
    assert.deepEqual(JSON.parse(out.text), {
      inbounds: [
        {
          tag: 'v',
          protocol: 'VMess',
          port: 1,
          settings: {clients: [{id: bob.credentials.uuid, email: 'bob', level: 0}]},
        },
      ],
    })
  })

  it('refuses shadowsocks 2022 chacha20 with several users, which Xray rejects', () => {
    const text =
      '{"inbounds": [{"tag": "s", "protocol": "shadowsocks", "settings": {"method": "2022-blake3-chacha20-poly1305", "password": "x", "clients": []}}]}'
    assert.throws(
      () => rewriteXrayUsers(text, {inbounds: ['s'], desired: [bob], managedNames}),
      isSbqError('INBOUND_UNSUPPORTED'),
    )
  })

  it('refuses a config that does not parse', () => {
    assert.throws(
      () =>
        rewriteXrayUsers('{"inbounds": [', {desired: [bob], managedNames, source: '/usr/local/etc/xray/config.json'}),
      isSbqError('CONFIG_INVALID', /^xray config "\/usr\/local\/etc\/xray\/config.json" is not valid JSON at line 1/),
    )
  })
})

describe('rewriteXrayUsers (V2Ray 4.x)', () => {
  const result = rewriteXrayUsers(v2rayFixture, {flavor: 'v2ray', desired: [bob, alice], managedNames})
  const after = JSON.parse(result.text) as Json

  it('gives vmess clients alterId 0 and keeps everything else', () => {
    assert.deepEqual(clients(after, 'vmess-in').at(-1), {id: bob.credentials.uuid, alterId: 0, email: 'bob', level: 0})
    assert.deepEqual(
      clients(after, 'vmess-in').map((x) => x['email']),
      ['guest', 'alice', 'bob'],
    )
    assert.deepEqual(withoutManagedClients(result.text, V2RAY_TAGS), withoutManagedClients(v2rayFixture, V2RAY_TAGS))
  })

  // V2Ray and Xray lower-case every email before they compare it (v2fly/v2ray-core proxy/vmess/inbound/inbound.go
  // userByEmail, XTLS/Xray-core proxy/vless/validator.go and proxy/trojan/validator.go): a second spelling is refused.
  it('refuses to write a managed name next to an unmanaged client that differs only in case, naming both', () => {
    const clashing = v2rayFixture.replace('"guest"', '"Bob"')
    assert.notEqual(clashing, v2rayFixture)
    assert.throws(
      () => rewriteXrayUsers(clashing, {flavor: 'v2ray', desired: [bob, alice], managedNames, source: 'v2.json'}),
      (error: unknown) =>
        error instanceof SbqError &&
        error.code === 'USER_NAME_CLASH' &&
        error.exit === 4 &&
        error.message ===
          'inbound "vmess-in" in v2ray config "v2.json" would hold "Bob" and "bob", which v2ray takes for one user' &&
        /rename or remove "Bob" in the config, or remove the user: sbq user remove bob; sbq did not change it/.test(
          error.hint ?? '',
        ),
    )
  })

  it('refuses unmanaged clients that already clash, rather than rewrite a config v2ray cannot load', () => {
    const clashing = v2rayFixture.replace('"guest"', '"DAVE"').replace('"dave"', '"Dave"')
    const unmanaged = new Set(['alice', 'bob'])
    assert.throws(
      () => rewriteXrayUsers(clashing, {flavor: 'v2ray', desired: [bob], managedNames: unmanaged}),
      (error: unknown) =>
        error instanceof SbqError && error.code === 'USER_NAME_CLASH' && /"DAVE" and "Dave"/.test(error.message),
    )
  })

  it('produces a config the real v2ray accepts', (t) => {
    assertV2rayAccepts(t, result.text)
  })
})

describe('rewriteXrayUsers: an inbound left with no client gets the locked placeholder', () => {
  const placeholderName = 'sbq~locked'
  const everyone = new Set([...managedNames, 'guest'])
  const keyBytes = (key: unknown): number => Buffer.from(String(key), 'base64').length
  const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
  const xray = rewriteXrayUsers(xrayFixture, {desired: [], managedNames: everyone})
  const v2ray = rewriteXrayUsers(v2rayFixture, {flavor: 'v2ray', desired: [], managedNames: everyone})
  const only = (text: string, tag: string): Json => {
    const list = clients(JSON.parse(text) as Json, tag)
    assert.equal(list.length, 1, `${tag} holds exactly one client`)
    return list[0]!
  }

  it('never writes an empty client list: each Xray protocol gets one placeholder of its own shape', () => {
    for (const tag of XRAY_TAGS) assert.equal(only(xray.text, tag)['email'], placeholderName, tag)
    const vless = only(xray.text, 'vless-reality')
    assert.deepEqual(Object.keys(vless).sort(), ['email', 'flow', 'id', 'level'])
    assert.equal(vless['flow'], 'xtls-rprx-vision')
    assert.match(String(vless['id']), uuidPattern)
    assert.deepEqual(Object.keys(only(xray.text, 'vmess-ws')).sort(), ['email', 'id', 'level'])
    assert.deepEqual(Object.keys(only(xray.text, 'trojan-tcp')).sort(), ['email', 'level', 'password'])
    const ss2022 = only(xray.text, 'ss2022')
    assert.deepEqual(Object.keys(ss2022).sort(), ['email', 'password'])
    assert.equal(
      keyBytes(ss2022['password']),
      16,
      'the 2022-blake3-aes-128-gcm inbound gets a 16-byte key, not single-user mode',
    )
    const legacy = only(xray.text, 'ss-legacy')
    assert.deepEqual(
      [Object.keys(legacy).sort(), legacy['method']],
      [['email', 'level', 'method', 'password'], 'aes-256-gcm'],
    )
    assert.deepEqual(xray.changedInbounds, XRAY_TAGS)
  })

  it('gives V2Ray vmess, vless and trojan a placeholder in their V2Ray shapes', () => {
    for (const tag of V2RAY_TAGS) assert.equal(only(v2ray.text, tag)['email'], placeholderName, tag)
    assert.deepEqual(Object.keys(only(v2ray.text, 'vmess-in')).sort(), ['alterId', 'email', 'id', 'level'])
    assert.equal(only(v2ray.text, 'vmess-in')['alterId'], 0)
  })

  it('does not read the placeholder back as a user, and keeps it while the inbound stays empty', () => {
    for (const found of readXrayUsers(xray.text)) assert.deepEqual(found.users, [], found.tag)
    const again = rewriteXrayUsers(xray.text, {desired: [], managedNames: everyone})
    assert.deepEqual([again.changed, again.text === xray.text], [false, true])
  })

  it('tells the live path where a placeholder was added, and where a real user replaced it', () => {
    assert.deepEqual(
      xray.inbounds.map((i) => [i.tag, i.placeholder]),
      XRAY_TAGS.map((tag) => [tag, 'added']),
    )
    assert.equal(xray.placeholder.name, placeholderName)
    assert.equal(
      only(xray.text, 'vmess-ws')['id'],
      xray.placeholder.credentials.uuid,
      'the one written is the one to add live',
    )
    const back = rewriteXrayUsers(xray.text, {desired: [bob], managedNames: everyone})
    assert.deepEqual(
      back.inbounds.map((i) => [i.tag, i.placeholder]),
      XRAY_TAGS.map((tag) => [tag, 'removed']),
    )
    for (const tag of XRAY_TAGS)
      assert.deepEqual(
        clients(JSON.parse(back.text) as Json, tag).map((c) => c['email']),
        ['bob'],
        tag,
      )
    const kept = rewriteXrayUsers(xray.text, {desired: [], managedNames: everyone})
    assert.deepEqual(
      kept.inbounds.map((i) => i.placeholder),
      XRAY_TAGS.map(() => 'kept'),
    )
    const untouched = rewriteXrayUsers(xrayFixture, {desired: [alice], managedNames})
    assert.deepEqual(
      untouched.inbounds.map((i) => i.placeholder),
      XRAY_TAGS.map(() => 'none'),
    )
  })

  it('never adds a placeholder beside a client sbq does not manage', () => {
    const withGuest = JSON.parse(rewriteXrayUsers(xrayFixture, {desired: [], managedNames}).text) as Json
    assert.deepEqual(
      clients(withGuest, 'trojan-tcp').map((c) => c['email']),
      ['guest'],
    )
    assert.deepEqual(
      clients(withGuest, 'vmess-ws').map((c) => c['email']),
      [placeholderName],
    )
  })

  it('produces an emptied config the real v2ray accepts', (t) => {
    assertV2rayAccepts(t, v2ray.text)
  })
})

describe('rewriteXrayUsers: user levels (issue 18)', () => {
  const config = JSON.stringify({
    inbounds: [
      {
        tag: 'vmess-in',
        protocol: 'vmess',
        settings: {
          clients: [
            {id: 'a0000000-0000-4000-8000-000000000001', email: 'guest', level: 1},
            {id: alice.credentials.uuid, email: 'alice', level: 3},
            {id: 'a0000000-0000-4000-8000-000000000002', email: 'dave-op', level: 1},
          ],
        },
      },
    ],
  })

  it("keeps a managed client's level, gives a new one the inbound's usual level, and tells the live path both", () => {
    const rewrite = rewriteXrayUsers(config, {desired: [alice, bob], managedNames: new Set(['alice', 'bob'])})
    const written = clients(JSON.parse(rewrite.text) as Json, 'vmess-in')
    assert.deepEqual(
      written.map((client) => [client['email'], client['level']]),
      [
        ['guest', 1],
        ['dave-op', 1],
        ['alice', 3],
        ['bob', 1],
      ],
    )
    assert.deepEqual(
      rewrite.inbounds[0]!.levels,
      new Map([
        ['alice', 3],
        ['bob', 1],
      ]),
    )
  })

  it('writes level 0 where the clients carry none, as before', () => {
    const plain = JSON.stringify({
      inbounds: [{tag: 't', protocol: 'trojan', settings: {clients: [{password: 'p', email: 'guest'}]}}],
    })
    const written = clients(
      JSON.parse(rewriteXrayUsers(plain, {desired: [bob], managedNames: new Set(['bob'])}).text) as Json,
      't',
    )
    assert.deepEqual(written[1], {password: bob.credentials.password, email: 'bob', level: 0})
  })
})

describe('Xray hysteria inbound (issue 18: infra/conf/hysteria.go)', () => {
  const hysteria = (settings: Json) =>
    JSON.stringify({inbounds: [{tag: 'hy', protocol: 'hysteria', port: 443, settings: {version: 2, ...settings}}]})

  it('reads auth as the password and writes clients as {auth, email, level}', () => {
    const text = hysteria({
      clients: [
        {auth: 'op-secret', email: 'guest', level: 0},
        {auth: 'old', email: 'alice'},
      ],
    })
    const [inbound] = readXrayUsers(text, {inbounds: ['hy']})
    assert.equal(inbound!.protocol, 'hysteria')
    assert.deepEqual(inbound!.users, [
      {name: 'guest', credentials: {password: 'op-secret'}},
      {name: 'alice', credentials: {password: 'old'}},
    ])
    const written = clients(JSON.parse(rewriteXrayUsers(text, {desired: [alice], managedNames}).text) as Json, 'hy')
    assert.deepEqual(written, [
      {auth: 'op-secret', email: 'guest', level: 0},
      {auth: alice.credentials.password, email: 'alice', level: 0},
    ])
  })

  it('rewrites `users` where the inbound names its list so, since Xray reads it when there is no `clients`', () => {
    const text = hysteria({users: [{auth: 'op-secret', email: 'guest'}]})
    const written = JSON.parse(rewriteXrayUsers(text, {desired: [bob], managedNames}).text) as Json
    const settings = (written['inbounds'] as Json[])[0]!['settings'] as Json
    assert.equal(settings['clients'], undefined)
    assert.deepEqual(
      (settings['users'] as Json[]).map((client) => client['email']),
      ['guest', 'bob'],
    )
  })

  it('is refused on V2Ray, which has no hysteria', () => {
    assert.throws(
      () => readXrayUsers(hysteria({clients: []}), {flavor: 'v2ray', inbounds: ['hy']}),
      /uses protocol "hysteria", which V2Ray does not have/,
    )
  })
})
