import assert from 'node:assert/strict'
import {copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {assertJsonError} from '../support/assertions.js'
import {dumpDatabase} from '../support/db-dump.js'
import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

describe('sbq node commands (stub V2Ray API, real config file, real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-nodes-')
  const configPath = join(workspace.dir, 'v2ray.json')
  const sbq = (...args: string[]) => runSbq([...args, '--json'], {db: workspace.db})
  let stub: StubV2rayApi

  before(async () => {
    copyFileSync(join(fixturesDir, 'v2ray-config.json'), configPath)
    stub = await StubV2rayApi.start({flavor: 'v2ray', inboundTags: ['vmess-in', 'vless-in', 'trojan-in']})
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it("node add --import adopts the config's users with their credentials, once each", async () => {
    const added = await sbq(
      'node',
      'add',
      'v1',
      '--type',
      'v2ray',
      '--api',
      stub.address,
      '--config',
      configPath,
      '--apply',
      'true',
      '--import',
    )
    assert.equal(added.code, 0, added.stderr)
    assert.deepEqual(added.json.imported.added.sort(), ['alice', 'dave', 'guest'])
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
      inbounds: Array<{tag: string; settings?: {clients?: Array<{id?: string; email: string}>}}>
    }
    const aliceInConfig = config.inbounds
      .find((inbound) => inbound.tag === 'vmess-in')!
      .settings!.clients!.find((client) => client.email === 'alice')!
    const alice = await runSbq(['user', 'show', 'alice', '--secrets', '--json'], {db: workspace.db})
    assert.equal(alice.json.credentials.uuid, aliceInConfig.id)
  })

  it('node list and node show describe the node', async () => {
    const list = await sbq('node', 'list')
    assert.deepEqual(
      list.json.map((node: {name: string; type: string; api: string}) => [node.name, node.type, node.api]),
      [['v1', 'v2ray', stub.address]],
    )
    const shown = await sbq('node', 'show', 'v1')
    assert.deepEqual(
      [shown.json.config, shown.json.apply, shown.json.inbounds, shown.json.cutSessions],
      [configPath, 'true', null, false],
    )
  })

  it('node sync --dry-run changes nothing; node sync pushes every active user live and into the config', async () => {
    const before = readFileSync(configPath, 'utf8')
    const dry = await sbq('node', 'sync', 'v1', '--dry-run')
    assert.equal(dry.code, 0, dry.stderr)
    assert.deepEqual([dry.json[0].method, dry.json[0].added], ['dry-run', ['alice', 'dave', 'guest']])
    assert.equal(readFileSync(configPath, 'utf8'), before)
    assert.equal(stub.inbounds.get('vmess-in')!.size, 0)

    assert.equal((await sbq('user', 'disable', 'guest', '--no-apply')).code, 0)
    const synced = await sbq('node', 'sync', 'v1')
    assert.equal(synced.code, 0, synced.stderr)
    assert.deepEqual(
      [synced.json[0].method, synced.json[0].added, synced.json[0].removed],
      ['live', ['alice', 'dave'], ['guest']],
    )
    for (const tag of ['vmess-in', 'vless-in', 'trojan-in'])
      assert.deepEqual([...stub.inbounds.get(tag)!.keys()].sort(), ['alice', 'dave'], tag)
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
      inbounds: Array<{tag: string; settings?: {clients?: Array<{email: string}>}}>
    }
    assert.deepEqual(
      config.inbounds
        .find((inbound) => inbound.tag === 'vmess-in')!
        .settings!.clients!.map((client) => client.email)
        .sort(),
      ['alice', 'dave'],
    )
  })

  it('--cut-sessions restarts the proxy (the apply command) after a live removal, to end open connections', async () => {
    const marker = join(workspace.dir, 'restarted')
    assert.equal((await sbq('node', 'remove', 'v1')).code, 0)
    const added = await sbq(
      'node',
      'add',
      'v1',
      '--type',
      'v2ray',
      '--api',
      stub.address,
      '--config',
      configPath,
      '--apply',
      `touch ${marker}`,
      '--cut-sessions',
    )
    assert.equal(added.json.cutSessions, true)
    const synced = await sbq('node', 'sync', 'v1')
    assert.deepEqual(
      [synced.json[0].method, synced.json[0].removed],
      ['live+restart', ['guest']],
      'the disabled guest was removed',
    )
    rmSync(marker)
    assert.equal((await sbq('user', 'add', 'erin')).json.nodes[0].method, 'live')
    assert.equal(existsSync(marker), false, 'adding a user needs no restart')
    const disabled = await sbq('user', 'disable', 'dave')
    assert.equal(disabled.code, 0, disabled.stderr)
    assert.deepEqual([disabled.json.nodes[0].method, disabled.json.nodes[0].removed], ['live+restart', ['dave']])
    assert.equal(existsSync(marker), true, 'the apply command ran')
  })

  it("runs the proxy's checker on a live-only rewrite only with validate-config always; a refusal leaves the file alone", async () => {
    const bin = join(workspace.dir, 'bin')
    const log = join(workspace.dir, 'checked')
    mkdirSync(bin)
    writeFileSync(join(bin, 'v2ray'), `#!/bin/sh\necho "$@" >> '${log}'\nexit \${FAKE_CHECK_EXIT:-0}\n`, {mode: 0o755})
    const withChecker = (exit: number, ...args: string[]) =>
      runSbq([...args, '--json'], {
        db: workspace.db,
        env: {PATH: `${bin}:${process.env['PATH']}`, FAKE_CHECK_EXIT: String(exit)},
      })

    const fay = await withChecker(0, 'user', 'add', 'fay')
    assert.equal(fay.json.nodes[0].method, 'live', fay.stderr)
    assert.equal(existsSync(log), false, 'by default a change the proxy took live is not re-checked')

    assert.equal((await sbq('config', 'set', 'validate-config', 'always')).code, 0)
    const gus = await withChecker(0, 'user', 'add', 'gus')
    assert.equal(gus.json.nodes[0].method, 'live', gus.stderr)
    assert.match(readFileSync(log, 'utf8'), /^-test -config \S+/)

    const before = readFileSync(configPath, 'utf8')
    const hal = await withChecker(1, 'user', 'add', 'hal')
    assert.equal(hal.code, 0, 'the user is added; the node is reported and retried by the next check')
    assert.match(hal.json.nodes[0].error, /was refused by ".*v2ray -test -config"/)
    assert.equal(readFileSync(configPath, 'utf8'), before)
    assert.equal((await sbq('config', 'set', 'validate-config', 'sometimes')).code, 2)
  })

  it('refuses bad input in one line with the documented exit codes, and stores nothing', async () => {
    const before = dumpDatabase(workspace.db)
    assertJsonError(
      await sbq('node', 'add', 'v1', '--type', 'v2ray', '--api', stub.address),
      3,
      'NODE_EXISTS',
      /node "v1" already exists/,
    )
    assertJsonError(
      await sbq('node', 'add', 'v2', '--type', 'v2ray', '--api', 'not an address'),
      2,
      'NODE_ADDRESS_INVALID',
      /node api address "not an address" is not HOST:PORT/,
    )
    assertJsonError(
      await sbq(
        'node',
        'add',
        'v2',
        '--type',
        'v2ray',
        '--api',
        stub.address,
        '--config',
        join(workspace.dir, 'missing.json'),
      ),
      4,
      'CONFIG_MISSING',
      /proxy config ".*missing\.json" cannot be read/,
    )
    const wrongInbound = await sbq(
      'node',
      'add',
      'v2',
      '--type',
      'v2ray',
      '--api',
      stub.address,
      '--config',
      configPath,
      '--inbound',
      'nope',
    )
    assertJsonError(wrongInbound, 2, 'INBOUND_NOT_FOUND', /inbound "nope" is not in/)
    assert.match(wrongInbound.json.error.hint, /vmess-in, vless-in, trojan-in/)
    assertJsonError(await sbq('node', 'show', 'nowhere'), 3, 'NODE_NOT_FOUND', /node "nowhere" does not exist/)
    assert.deepEqual(dumpDatabase(workspace.db), before)
  })

  it('node test on an unreachable node is exit 4 with the address in one line', async () => {
    assert.equal((await sbq('node', 'add', 'dead', '--type', 'xray', '--api', '127.0.0.1:1')).code, 0)
    const human = await runSbq(['node', 'test', 'dead'], {db: workspace.db})
    assert.equal(human.code, 4)
    assert.match(human.stderr, /^error: node api "127\.0\.0\.1:1" is unreachable.*\n$/)
  })
})

describe('sbq node test of a sing-box node on an official build (no v2ray_api)', () => {
  const workspace = tempWorkspace('sbq-nodes-sing-box-build-')
  const bin = join(workspace.dir, 'bin')
  const configPath = join(workspace.dir, 'config.json')

  before(() => {
    mkdirSync(bin)
    // What `sing-box version` prints for a release binary (cmd/sing-box/cmd_version.go, release/DEFAULT_BUILD_TAGS).
    const version = [
      'sing-box version 1.13.2',
      '',
      'Environment: go1.25.1 linux/amd64',
      'Tags: with_gvisor,with_quic,with_dhcp,with_wireguard,with_utls,with_acme,with_clash_api,with_tailscale',
      'CGO: disabled',
    ]
    writeFileSync(join(bin, 'sing-box'), `#!/bin/sh\nprintf '${version.join('\\n')}\\n'\n`, {mode: 0o755})
    copyFileSync(join(fixturesDir, 'sing-box-config.json'), configPath)
  })

  after(() => workspace.cleanup())
  const withPath = {PATH: `${bin}:${process.env['PATH'] ?? ''}`}

  it("says the build has no v2ray_api, what can be metered, and what to do; without sing-box on PATH, the config's ssm-api says it", async () => {
    const add = ['node', 'add', 'sb', '--type', 'sing-box', '--api', '127.0.0.1:1', '--config', configPath, '--json']
    const added = await runSbq(add, {db: workspace.db, env: withPath})
    assert.equal(added.code, 0, added.stderr)
    assert.match(
      added.stderr,
      /^warning: node "sb": sing-box on sbq's PATH \(.*\/bin\/sing-box\) was built without with_v2ray_api \(the official release builds are\): only shadowsocks inbounds behind ssm-api can be metered, and a config with a v2ray_api does not start \(add the shadowsocks inbound as a node of type sing-box-ssm, or build sing-box with -tags with_v2ray_api\)\n$/,
      'node add says it too, and still adds the node',
    )
    assert.equal(added.json.warnings.length, 1)
    const again = ['node', 'add', 'sb2', '--type', 'sing-box', '--api', '127.0.0.1:1', '--config', configPath]
    const quiet = await runSbq(again, {db: workspace.db, env: {PATH: '/usr/bin:/bin'}})
    assert.deepEqual([quiet.code, quiet.stderr], [0, ''], 'no sing-box on PATH: nothing to say at node add')
    const tested = await runSbq(['node', 'test', 'sb'], {db: workspace.db, env: withPath})
    assert.equal(tested.code, 4)
    assert.match(
      tested.stderr,
      /^error: node api "127\.0\.0\.1:1" is unreachable: .*; sing-box on sbq's PATH \(.*\/bin\/sing-box\) was built without with_v2ray_api \(the official release builds are\): only shadowsocks inbounds behind ssm-api can be metered there \(add the shadowsocks inbound as a node of type sing-box-ssm, or build sing-box with -tags with_v2ray_api\)\n$/,
    )
    const plain = await runSbq(['node', 'test', 'sb'], {db: workspace.db, env: {PATH: '/usr/bin:/bin'}})
    assert.equal(plain.code, 4)
    assert.match(
      plain.stderr,
      /is unreachable: .*; its config has an ssm-api service, the metering of official sing-box builds, which have no v2ray_api: only shadowsocks inbounds behind ssm-api can be metered there \(add the shadowsocks inbound as a node of type sing-box-ssm/,
    )
  })
})
