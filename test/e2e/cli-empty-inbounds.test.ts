/**
 * Issue 14, item 1 through the real bin/sbq: a managed inbound whose last user goes gets sbq's locked placeholder, in
 * the config (sing-box, Xray) and live (Xray, placeholder added before the last user is removed), and loses it when a
 * user comes back; the placeholder is never imported, printed or counted. The gRPC API is the stub (its AlterInbound
 * answers follow V2Ray's error texts); the real-V2Ray version of this is v2ray-empty-inbound.test.ts.
 */
import assert from 'node:assert/strict'
import {copyFileSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {
  decodeAddUserOperation,
  decodeRemoveUserOperation,
  type AlterInboundRequest,
} from '../../src/lib/proxies/shared/v2ray-api/messages.js'
import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace, type SbqResult} from '../support/run-sbq.js'
import {SingBoxEmulator} from '../support/sing-box-emulator.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

const placeholderName = 'sbq~locked'
type Entry = Record<string, unknown>

function inboundEntries(path: string, tag: string): Entry[] {
  const config = JSON.parse(readFileSync(path, 'utf8')) as {
    inbounds: Array<{tag: string; users?: Entry[]; settings?: {clients?: Entry[]}}>
  }
  const inbound = config.inbounds.find((found) => found.tag === tag)!
  return inbound.users ?? inbound.settings!.clients!
}

const nameOf = (entry: Entry | undefined): unknown => entry?.['name'] ?? entry?.['username'] ?? entry?.['email']

/** Every secret-looking value of the placeholders in the config, to look for in sbq's output. */
function placeholderSecrets(path: string, tags: readonly string[]): string[] {
  return tags.flatMap((tag) =>
    inboundEntries(path, tag)
      .filter((entry) => nameOf(entry) === placeholderName)
      .flatMap((entry) =>
        ['id', 'uuid', 'password', 'auth_str'].flatMap((key) =>
          typeof entry[key] === 'string' ? [entry[key] as string] : [],
        ),
      ),
  )
}

function assertNothingRevealed(results: readonly SbqResult[], secrets: readonly string[]): void {
  assert.ok(secrets.length > 0)
  for (const result of results) {
    for (const secret of secrets)
      assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), 'a placeholder secret was printed')
    assert.ok(
      !result.stdout.includes(placeholderName) && !result.stderr.includes(placeholderName),
      'the placeholder was shown as a user',
    )
  }
}

async function runEach(sbq: (...args: string[]) => Promise<SbqResult>, commands: readonly string[][]): Promise<void> {
  for (const args of commands) {
    const result = await sbq(...args)
    assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
  }
}

const SING_BOX_TAGS = ['socks-in', 'http-in', 'mixed-in', 'naive-in', 'ss-in']

/** Inbounds that sing-box leaves open (socks/http/mixed), refuses (naive) or runs single-user (ss 2022) when empty. */
function singBoxConfig(apiPort: number): object {
  const inbound = (type: string, tag: string, port: number, extra: object = {}) => ({
    type,
    tag,
    listen: '127.0.0.1',
    listen_port: port,
    ...extra,
    users: [] as unknown[],
  })
  return {
    inbounds: [
      inbound('socks', 'socks-in', 20001),
      inbound('http', 'http-in', 20002),
      inbound('mixed', 'mixed-in', 20003),
      inbound('naive', 'naive-in', 20004),
      inbound('shadowsocks', 'ss-in', 20005, {method: '2022-blake3-aes-128-gcm', password: 'CUoM9IvUrrg8uTiJ638uyA=='}),
    ],
    outbounds: [{type: 'direct', tag: 'direct'}],
    experimental: {v2ray_api: {listen: `127.0.0.1:${apiPort}`, stats: {enabled: true, users: []}}},
  }
}

describe('sbq keeps a sing-box inbound closed when its last user goes', () => {
  const workspace = tempWorkspace('sbq-empty-sing-box-')
  const configPath = join(workspace.dir, 'config.json')
  const sbq = (...args: string[]) =>
    runSbq([...args, '--json'], {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
  let singBox: SingBoxEmulator
  let stub: StubV2rayApi

  before(async () => {
    // Its listen address is only known once it runs; sing-box itself would read it from the file.
    writeFileSync(configPath, `${JSON.stringify(singBoxConfig(1), null, 2)}\n`)
    singBox = await SingBoxEmulator.start({configPath, uptimeSeconds: 3600})
    stub = singBox.api
    writeFileSync(configPath, `${JSON.stringify(singBoxConfig(stub.port), null, 2)}\n`)
    await runEach(sbq, [
      ['user', 'add', 'alice', '--no-apply'],
      [
        'node',
        'add',
        'sb',
        '--type',
        'sing-box',
        '--api',
        stub.address,
        '--config',
        configPath,
        ...SING_BOX_TAGS.flatMap((tag) => ['--inbound', tag]),
        '--apply',
        singBox.reloadCommand,
      ],
      ['node', 'sync', 'sb'],
    ])
  })

  after(async () => {
    await singBox.close()
    workspace.cleanup()
  })

  it('writes the placeholder into every inbound the last user leaves, reveals none of it, and imports none of it', async () => {
    for (const tag of SING_BOX_TAGS) assert.deepEqual(inboundEntries(configPath, tag).map(nameOf), ['alice'], tag)
    const disabled = await sbq('user', 'disable', 'alice')
    assert.equal(disabled.code, 0, disabled.stderr)
    assert.deepEqual([disabled.json.nodes[0].method, disabled.json.nodes[0].removed], ['config+reload', ['alice']])
    for (const tag of SING_BOX_TAGS)
      assert.deepEqual(inboundEntries(configPath, tag).map(nameOf), [placeholderName], tag)
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
      experimental: {v2ray_api: {stats: {users: string[]}}}
    }
    assert.deepEqual(config.experimental.v2ray_api.stats.users, [], 'the placeholder is not counted')

    const imported = await sbq(
      'node',
      'add',
      'again',
      '--type',
      'sing-box',
      '--api',
      stub.address,
      '--config',
      configPath,
      '--import',
      '--apply',
      'exit 0',
    )
    assert.equal(imported.code, 0, imported.stderr)
    assert.deepEqual(imported.json.imported, {added: [], existing: [], skipped: []})
    const shown = [
      disabled,
      imported,
      await sbq('node', 'show', 'sb'),
      await sbq('user', 'list'),
      await sbq('node', 'sync', 'sb'),
    ]
    assertNothingRevealed(shown, placeholderSecrets(configPath, SING_BOX_TAGS))
  })

  it('drops the placeholder when a user is back', async () => {
    const enabled = await sbq('user', 'enable', 'alice')
    assert.equal(enabled.code, 0, enabled.stderr)
    for (const tag of SING_BOX_TAGS) assert.deepEqual(inboundEntries(configPath, tag).map(nameOf), ['alice'], tag)
  })
})

describe('sbq keeps an Xray inbound closed when its last user goes, live and in the config', () => {
  const workspace = tempWorkspace('sbq-empty-xray-')
  const configPath = join(workspace.dir, 'xray.json')
  const tags = ['vmess-ws', 'ss2022']
  const sbq = (...args: string[]) =>
    runSbq([...args, '--json'], {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
  let stub: StubV2rayApi

  /** The live user changes in the order the stub received them, e.g. "ss2022 +sbq~locked". */
  const liveChanges = (): string[] =>
    stub.calls
      .filter((call) => call.method === 'AlterInbound')
      .map((call) => {
        const {tag, operation} = call.request as AlterInboundRequest
        const added = operation!.type.endsWith('AddUserOperation')
        return `${tag} ${added ? `+${decodeAddUserOperation(operation!.value)!.email}` : `-${decodeRemoveUserOperation(operation!.value)}`}`
      })

  before(async () => {
    copyFileSync(join(fixturesDir, 'xray-config.json'), configPath)
    stub = await StubV2rayApi.start({flavor: 'xray', inboundTags: tags})
    await runEach(sbq, [
      ['user', 'add', 'alice', '--no-apply'],
      [
        'node',
        'add',
        'x',
        '--type',
        'xray',
        '--api',
        stub.address,
        '--config',
        configPath,
        ...tags.flatMap((tag) => ['--inbound', tag]),
        '--apply',
        'exit 0',
      ],
      ['node', 'sync', 'x'],
    ])
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('adds the placeholder live before removing the last user, with the key the 2022 method needs', async () => {
    stub.calls.length = 0
    const disabled = await sbq('user', 'disable', 'alice')
    assert.equal(disabled.code, 0, disabled.stderr)
    assert.deepEqual([disabled.json.nodes[0].method, disabled.json.nodes[0].removed], ['live', ['alice']])
    assert.deepEqual(
      liveChanges(),
      tags.flatMap((tag) => [`${tag} +${placeholderName}`, `${tag} -alice`]),
    )
    for (const tag of tags) {
      assert.deepEqual([...stub.inbounds.get(tag)!.keys()], [placeholderName], tag)
      assert.deepEqual(inboundEntries(configPath, tag).map(nameOf), [placeholderName], tag)
    }
    const [vmessInConfig] = inboundEntries(configPath, 'vmess-ws')
    const [ssInConfig] = inboundEntries(configPath, 'ss2022')
    assert.equal(
      stub.inbounds.get('vmess-ws')!.get(placeholderName)!.accountFields.get(1),
      vmessInConfig!['id'],
      'live and config hold the same placeholder',
    )
    const liveKey = String(stub.inbounds.get('ss2022')!.get(placeholderName)!.accountFields.get(1))
    assert.deepEqual([liveKey, Buffer.from(liveKey, 'base64').length], [ssInConfig!['password'], 16])
    assertNothingRevealed(
      [disabled, await sbq('node', 'show', 'x'), await sbq('user', 'list')],
      placeholderSecrets(configPath, tags),
    )
  })

  it('removes the placeholder live only after the user is back', async () => {
    stub.calls.length = 0
    const enabled = await sbq('user', 'enable', 'alice')
    assert.equal(enabled.code, 0, enabled.stderr)
    assert.deepEqual(
      liveChanges(),
      tags.flatMap((tag) => [`${tag} +alice`, `${tag} -${placeholderName}`]),
    )
    for (const tag of tags) {
      assert.deepEqual([...stub.inbounds.get(tag)!.keys()], ['alice'], tag)
      assert.deepEqual(inboundEntries(configPath, tag).map(nameOf), ['alice'], tag)
    }
  })
})
