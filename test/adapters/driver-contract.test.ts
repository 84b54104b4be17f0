/**
 * One contract, every proxy type: each driver registered in src/lib/proxies/registry.ts answers the same questions
 * against its own stub, through the ProxyDriver interface only. Adding a type is a folder, a line in the registry and
 * a harness here; a registered type without a harness fails the first test.
 *
 * What a driver must do is read from its declared capabilities, not from its type name: `traffic` pulled means
 * `connect` reads counters; `defaultApplyCommand` not null means users live in a config file sbq rewrites and the
 * proxy must load it; a live user API (probe's `liveUserChanges`) means the running proxy's users change at once;
 * `counterLifetime: 'user'` means a removal drops that user's counters, which must be billed first.
 *
 * The proxies' checkers (`xray`, `v2ray`, `sing-box`) are shims here that log and accept, and the apply command only
 * logs, so nothing real is checked, reloaded or restarted, and the order of pulls, checks and applies is on record.
 */
import assert from 'node:assert/strict'
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {SbqError} from '../../src/lib/errors.js'
import type {
  ChangeHost,
  ChangeOutcome,
  ManagedUser,
  ProxyDriver,
  ProxyNode,
  UserChange,
} from '../../src/lib/proxies/proxy-driver.js'
import {connectNode, proxyDrivers} from '../../src/lib/proxies/registry.js'
import {PLACEHOLDER_USER_NAME} from '../../src/lib/proxies/shared/placeholder-user.js'
import {alice, bob, singBoxFixtureUserTags} from '../support/fixture-users.js'
import {fixturesDir} from '../support/paths.js'
import {StubPanel, type StubPanelVersion} from '../support/stub-3x-ui-panel.js'
import {StubSsmApi} from '../support/stub-ssm-api.js'
import {SingBoxEmulator} from '../support/sing-box-emulator.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

const testTimeout = {timeout: 10_000}

/** sbq manages alice, bob and carol; `guest` and `dave` in the fixtures are the operator's own and must stay as they are. */
const managed: ReadonlySet<string> = new Set(['alice', 'bob', 'carol'])

/** Users per managed inbound, name to entry (a config entry, a live user, a panel client), as a view of a node. */
type UserView = Map<string, Map<string, unknown>>

/** One node of the type, as sbq last left it: the fixture's users on it, its config a fresh copy. */
interface NodeUnderTest {
  node: ProxyNode
  /** The running proxy's users, where the type changes them live (absent for sing-box v2ray_api, which cannot). */
  live?: () => UserView
  /** The users in the node's config file, read raw (the placeholder included), where sbq rewrites that file. */
  config?: () => UserView
}

interface Harness {
  start(): Promise<void>
  close(): Promise<void>
  /** A node in `dir`, stub reset and seeded; `applyCommand` is what the node loads a new config with. */
  fresh(dir: string, applyCommand: string): NodeUnderTest
  /** Puts counters (or clients) on the stub; returns the names of the users a probe or a stats read must see. */
  seedProbe(): string[]
  /** The fixture the driver's readConfigInbounds reads, with the inbound tags it must list, in order. */
  fixture?: {file: string; tags: readonly string[]; read: (text: string, tags: readonly string[]) => UserView}
  /** A proxy restart that forgets every user added through the API (sing-box SSM without a cache file). */
  restartForgettingUsers?(): void
  /** Why a managed inbound with no user stays closed on this type, so it needs no placeholder (docs/empty-inbounds.md). */
  emptyInboundIsClosed?: string
  /** Where sbq only switches users off and on (3x-ui): every client by name, with whether it is on. */
  switches?: () => Map<string, boolean>
  /** The inbound tag that puts bob on the node when it is his choice, where the view's keys are not the tags (3x-ui). */
  bobsInbound?: string
}

// --- raw config readers: independent of the drivers' own parsers, which they check -------------------------------

function xrayView(text: string, tags: readonly string[]): UserView {
  const config = JSON.parse(text) as {inbounds: Array<{tag?: string; settings?: {clients?: Array<{email?: string}>}}>}
  return new Map(
    tags.map((tag) => {
      const inbound = config.inbounds.find((entry) => entry.tag === tag)
      assert.ok(inbound, `the config has no inbound "${tag}"`)
      return [tag, new Map((inbound.settings?.clients ?? []).map((client) => [client.email ?? '', client]))]
    }),
  )
}

function singBoxView(text: string, tags: readonly string[]): UserView {
  const config = JSON.parse(text) as {
    inbounds: Array<{tag?: string; users?: Array<{name?: string; username?: string}>}>
  }
  return new Map(
    tags.map((tag) => {
      const inbound = config.inbounds.find((entry) => entry.tag === tag)
      assert.ok(inbound, `the config has no inbound "${tag}"`)
      return [tag, new Map((inbound.users ?? []).map((user) => [user.name ?? user.username ?? '', user]))]
    }),
  )
}

const XRAY_TAGS = ['vless-reality', 'vmess-ws', 'trojan-tcp', 'ss2022', 'ss-legacy']
const V2RAY_TAGS = ['vmess-in', 'vless-in', 'trojan-in']
const SING_BOX_TAGS = singBoxFixtureUserTags

const xrayFixture = {file: 'xray-config.json', tags: XRAY_TAGS, read: xrayView}
const v2rayFixture = {file: 'v2ray-config.json', tags: V2RAY_TAGS, read: xrayView}
const singBoxFixture = {file: 'sing-box-config.json', tags: SING_BOX_TAGS, read: singBoxView}

function nodeOf(type: string, fields: Partial<ProxyNode>): ProxyNode {
  return {
    name: `contract-${type}`,
    type,
    api: '',
    config_path: null,
    inbounds: null,
    apply_command: null,
    cut_sessions: 0,
    panel_url: null,
    panel_user: null,
    panel_password: null,
    ...fields,
  }
}

function copyFixture(dir: string, file: string): string {
  const path = join(dir, file)
  copyFileSync(join(fixturesDir, file), path)
  return path
}

// --- harnesses, one per registered type ----------------------------------------------------------------------------

/** Xray, V2Ray and sing-box v2ray_api: the gRPC stub, seeded with the fixture's users where the type has live users. */
function grpcHarness(
  type: string,
  flavor: 'xray' | 'v2ray' | 'sing-box',
  fixture: NonNullable<Harness['fixture']>,
): Harness {
  let stub: StubV2rayApi
  // sing-box takes users only from its config, and must be seen to reload it (a new instance) after each apply.
  let singBox: SingBoxEmulator | undefined
  const live = flavor !== 'sing-box'
  const fixtureView = fixture.read(readFileSync(join(fixturesDir, fixture.file), 'utf8'), fixture.tags)
  return {
    fixture,
    start: async () => {
      if (live) stub = await StubV2rayApi.start({flavor, inboundTags: [...fixture.tags]})
      else {
        singBox = await SingBoxEmulator.start({configPath: join(fixturesDir, fixture.file)})
        stub = singBox.api
      }
    },
    close: async () => {
      await (singBox ?? stub).close()
    },
    fresh: (dir, logApply) => {
      for (const name of stub.counterValues().keys()) stub.deleteCounter(name)
      for (const [tag, users] of stub.inbounds) {
        users.clear()
        // The running proxy holds what its config holds.
        if (live)
          for (const email of fixtureView.get(tag)?.keys() ?? [])
            users.set(email, {
              email,
              level: 0,
              accountType: 'from the config',
              accountFields: new Map(),
              accountValue: new Uint8Array(),
            })
      }
      const configPath = copyFixture(dir, fixture.file)
      let applyCommand = logApply
      if (singBox !== undefined) {
        singBox.configPath = configPath
        stub.uptimeSeconds = 3600
        applyCommand = `${logApply} && ${singBox.reloadCommand}`
      }
      return {
        node: nodeOf(type, {api: stub.address, config_path: configPath, apply_command: applyCommand}),
        ...(live ? {live: () => new Map([...stub.inbounds].map(([tag, users]) => [tag, new Map(users)]))} : {}),
        config: () => fixture.read(readFileSync(configPath, 'utf8'), fixture.tags),
      }
    },
    seedProbe: () => {
      stub.addTraffic('alice', 1000, 2000)
      stub.addTraffic('dave', 10, 20)
      stub.setCounter('inbound>>>vmess-in>>>traffic>>>uplink', 5)
      return ['alice', 'dave']
    },
  }
}

function ssmHarness(): Harness {
  let stub: StubSsmApi
  return {
    fixture: singBoxFixture,
    emptyInboundIsClosed: 'sing-box runs a managed shadowsocks inbound in multi-user mode, so no users lets nobody in',
    start: async () => {
      stub = await StubSsmApi.start('/ss')
    },
    close: async () => {
      await stub.close()
    },
    fresh: (dir) => {
      stub.restart()
      stub.addUser('alice', alice.credentials.password16)
      stub.addUser('dave', 'CidqXcXXC+WrtJGSDNZhWw==')
      const configPath = copyFixture(dir, singBoxFixture.file)
      return {
        node: nodeOf('sing-box-ssm', {api: stub.baseUrl, config_path: configPath}),
        live: () => new Map([['ss-ssm', new Map([...stub.users].map(([name, user]) => [name, user.uPSK]))]]),
      }
    },
    seedProbe: () => {
      stub.addTraffic('alice', 1000, 2000)
      return [...stub.users.keys()]
    },
    restartForgettingUsers: () => stub.restart(),
  }
}

function panelHarness(version: StubPanelVersion): Harness {
  const panel = new StubPanel('/x7Kq2', version)
  let initial = ''
  const clients = () => panel.inbounds.flatMap((inbound) => inbound.clients)
  return {
    start: async () => {
      await panel.start()
      initial = JSON.stringify(panel.inbounds.map((inbound) => inbound.clients))
    },
    close: async () => {
      panel.server.closeAllConnections()
      await new Promise<void>((resolve) => panel.server.close(() => resolve()))
    },
    fresh: () => {
      const saved = JSON.parse(initial) as Array<Array<Record<string, unknown>>>
      panel.inbounds.forEach((inbound, index) => (inbound.clients = saved[index] ?? []))
      // As sbq last left it: alice on, bob and carol off.
      panel.client('bob')!.enable = false
      return {
        node: nodeOf('3x-ui', {panel_url: panel.url, panel_user: 'admin', panel_password: 's3cret'}),
        // 3x-ui builds its own Xray config from the panel; sbq's view is the panel's clients that are on.
        live: () =>
          new Map([
            [
              'panel',
              new Map(
                clients()
                  .filter((client) => client.enable !== false)
                  .map((client) => [String(client.email), {...client}]),
              ),
            ],
          ]),
      }
    },
    seedProbe: () => [...new Set(clients().map((client) => String(client.email)))],
    // The stub panel's trojan inbound, where bob's client is (3x-ui gives each client one inbound).
    bobsInbound: 'inbound-8443',
    switches: () => new Map(clients().map((client) => [String(client.email), client.enable !== false])),
  }
}

/**
 * Every type the registry may list, and how to stand one of its nodes up against a stub; a type whose upstream
 * speaks more than one API gives a harness per API, by name, and runs the contract against each.
 */
const harnesses: Record<string, (() => Harness) | Record<string, () => Harness>> = {
  xray: () => grpcHarness('xray', 'xray', xrayFixture),
  v2ray: () => grpcHarness('v2ray', 'v2ray', v2rayFixture),
  'sing-box': () => grpcHarness('sing-box', 'sing-box', singBoxFixture),
  'sing-box-ssm': ssmHarness,
  '3x-ui': {'panel v2.9': () => panelHarness('2.9'), 'panel v3.6': () => panelHarness('3.6')},
}

// --- the shared workspace: checker shims on PATH, a folder per test ----------------------------------------------

const root = mkdtempSync(join(tmpdir(), 'sbq-driver-contract-'))
const shimDir = join(root, 'bin')
mkdirSync(shimDir)
for (const checker of ['xray', 'v2ray', 'sing-box']) {
  // The file to check is the last argument, in a temp folder beside the config: the log sits beside the config too.
  const shim = join(shimDir, checker)
  writeFileSync(
    shim,
    '#!/bin/sh\nfor last; do :; done\nprintf \'check\\n\' >> "$(dirname "$(dirname "$last")")/events.log"\n',
  )
  chmodSync(shim, 0o755)
}
process.env['PATH'] = `${shimDir}${delimiter}${process.env['PATH'] ?? ''}`

after(() => rmSync(root, {recursive: true, force: true}))

let folders = 0
function testFolder(type: string): {dir: string; events: string; applyCommand: string} {
  const dir = join(root, `${type}-${++folders}`)
  mkdirSync(dir)
  const events = join(dir, 'events.log')
  return {dir, events, applyCommand: `echo apply >> '${events}'`}
}

function readEvents(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []
}

/** The host a change gets: each pull is logged, noting whether a user being removed was still on the proxy then. */
function loggingHost(events: string, subject: NodeUnderTest, removed: readonly string[]): ChangeHost {
  return {
    validateAlways: false,
    pullNode: async () => {
      const live = subject.live?.()
      const stillThere =
        live !== undefined && removed.some((name) => [...live.values()].some((users) => users.has(name)))
      appendFileSync(events, stillThere ? 'pull while-removed-users-there\n' : 'pull\n')
    },
  }
}

function change(node: ProxyNode, added: ManagedUser[], removed: string[], active: ManagedUser[]): UserChange {
  return {node, added, removed, active, managed}
}

/** The change every test makes: alice goes (carol, never there, goes too), bob comes. */
function aliceOutBobIn(node: ProxyNode): UserChange {
  return change(node, [bob], ['alice', 'carol'], [bob])
}

function names(users: Map<string, unknown> | undefined): string[] {
  return [...(users ?? new Map<string, unknown>()).keys()].sort()
}

function unmanagedEntries(users: Map<string, unknown> | undefined): Array<[string, unknown]> {
  return [...(users ?? new Map<string, unknown>())].filter(
    ([name]) => !managed.has(name) && name !== PLACEHOLDER_USER_NAME,
  )
}

/** Each inbound of `after` carries exactly `active` of the managed users, and the others' entries as `before` had them. */
function assertCarriesExactly(what: string, before: UserView, after: UserView, active: readonly string[]): void {
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), `${what}: the managed inbounds`)
  for (const [tag, users] of after) {
    assert.deepEqual(
      names(users).filter((name) => managed.has(name)),
      [...active].sort(),
      `${what}, inbound "${tag}": the managed users`,
    )
    assert.deepEqual(
      unmanagedEntries(users),
      unmanagedEntries(before.get(tag)),
      `${what}, inbound "${tag}": users sbq does not manage are left as they were`,
    )
    if (active.length > 0)
      assert.equal(
        users.has(PLACEHOLDER_USER_NAME),
        false,
        `${what}, inbound "${tag}": no placeholder beside a real user`,
      )
  }
}

/** No managed inbound is left open: one that held only managed users now holds exactly the locked placeholder. */
function assertNoneLeftEmpty(what: string, before: UserView, after: UserView, harness: Harness): void {
  for (const [tag, users] of after) {
    assert.deepEqual(
      names(users).filter((name) => managed.has(name)),
      [],
      `${what}, inbound "${tag}": no managed user is left`,
    )
    const othersBefore = unmanagedEntries(before.get(tag))
    assert.deepEqual(
      unmanagedEntries(users),
      othersBefore,
      `${what}, inbound "${tag}": users sbq does not manage are left as they were`,
    )
    if (othersBefore.length > 0) {
      assert.equal(
        users.has(PLACEHOLDER_USER_NAME),
        false,
        `${what}, inbound "${tag}": no placeholder beside a user sbq does not manage`,
      )
    } else if (harness.emptyInboundIsClosed !== undefined) {
      assert.deepEqual(
        names(users),
        [],
        `${what}, inbound "${tag}": empty is closed here (${harness.emptyInboundIsClosed}), so nothing is added`,
      )
    } else {
      assert.deepEqual(
        names(users),
        [PLACEHOLDER_USER_NAME],
        `${what}, inbound "${tag}" would have no user at all: it must hold just the locked placeholder`,
      )
    }
  }
}

/** The driver's own reader agrees with the raw one on the rewritten file (it leaves the placeholder out). */
function assertDriverReadsConfig(driver: ProxyDriver, subject: NodeUnderTest, view: UserView): void {
  assert.ok(driver.readConfigInbounds, `${driver.type} rewrites a config, so it must read one (readConfigInbounds)`)
  const path = subject.node.config_path!
  const inbounds = driver.readConfigInbounds(readFileSync(path, 'utf8'), path, undefined)
  assert.deepEqual(
    inbounds.map((inbound) => [inbound.tag, inbound.users.map((user) => user.name).sort()]),
    [...view].map(([tag, users]) => [tag, names(users).filter((name) => name !== PLACEHOLDER_USER_NAME)]),
    'readConfigInbounds on the rewritten config',
  )
}

/**
 * Counters are billed before anything may zero them, and a config is checked before the proxy loads it:
 * - the apply command (reload, restart) runs exactly when the method says so, after a pull and after the checker;
 * - a type without live user changes that rewrites a config must make the proxy load it;
 * - on a type whose counters live as long as the user (`counterLifetime: 'user'`), a removal is preceded by a pull
 *   made while the removed user was still there.
 */
async function assertBilledFirst(
  driver: ProxyDriver,
  subject: NodeUnderTest,
  outcome: ChangeOutcome,
  events: string[],
  removed: readonly string[],
): Promise<void> {
  const applies = events.filter((event) => event === 'apply').length
  const reloadOrRestart = /reload|restart/.test(outcome.method)
  assert.equal(
    applies > 0,
    reloadOrRestart,
    `method "${outcome.method}" but the apply command ran ${applies} times (events: ${events.join(', ')})`,
  )
  if (driver.defaultApplyCommand !== null && subject.live === undefined) {
    assert.ok(
      applies > 0,
      `${driver.type} has no live user changes, so the proxy must load the rewritten config (events: ${events.join(', ')})`,
    )
  }
  if (applies > 0) {
    const beforeApply = events.slice(0, events.indexOf('apply'))
    assert.ok(
      beforeApply.some((event) => event.startsWith('pull')),
      `a reload or restart may zero the counters, so they are pulled first (events: ${events.join(', ')})`,
    )
    assert.ok(
      beforeApply.includes('check'),
      `the proxy's checker sees the config before the proxy loads it (events: ${events.join(', ')})`,
    )
  }
  if (driver.connect !== undefined && removed.length > 0) {
    const api = await driver.connect(subject.node, 3000)
    const lifetime = api.counterLifetime
    api.close()
    if (lifetime === 'user') {
      assert.ok(
        events.includes('pull while-removed-users-there'),
        `${driver.type} drops a removed user's counters with the user, so they are pulled while the user is still there (events: ${events.join(', ')})`,
      )
    }
  }
}

// --- the contract --------------------------------------------------------------------------------------------------

describe('driver contract: every registered type joins it', () => {
  it('every type in the registry has a harness here', () => {
    const missing = proxyDrivers.map((driver) => driver.type).filter((type) => !(type in harnesses))
    assert.deepEqual(
      missing,
      [],
      `registered proxy type(s) ${missing.map((type) => `"${type}"`).join(', ')} have no harness in test/adapters/driver-contract.test.ts: add one to \`harnesses\` (a stub and a node of the type) so the type runs the shared driver contract`,
    )
  })

  it('every harness here serves a registered type, once', () => {
    const types = proxyDrivers.map((driver) => driver.type)
    assert.deepEqual(types, [...new Set(types)], 'a type is registered twice')
    const stale = Object.keys(harnesses).filter((type) => !types.includes(type))
    assert.deepEqual(stale, [], `harness(es) for ${stale.join(', ')}, which the registry does not list`)
  })
})

for (const [driver, variant, makeHarness] of proxyDrivers.flatMap(
  (driver): Array<[ProxyDriver, string, () => Harness]> => {
    const entry = harnesses[driver.type]
    // The registry test above names a type without one; there is nothing to run it against.
    if (entry === undefined) return []
    return typeof entry === 'function'
      ? [[driver, '', entry]]
      : Object.entries(entry).map(([name, make]) => [driver, ` (${name})`, make])
  },
)) {
  describe(`driver contract: ${driver.type}${variant}`, () => {
    const harness = makeHarness()
    const fresh = () => {
      const folder = testFolder(driver.type)
      return {...folder, subject: harness.fresh(folder.dir, folder.applyCommand)}
    }

    before(async () => {
      await harness.start()
    })
    after(async () => {
      await harness.close()
    })

    it(
      `traffic "${driver.traffic}" agrees with connect: pulled types read their stub's counters, pushed ones have no API`,
      testTimeout,
      async () => {
        const {subject} = fresh()
        if (driver.traffic === 'pulled') {
          assert.ok(driver.connect, 'a pulled type opens its proxy API with connect')
          const seeded = harness.seedProbe()
          const api = await driver.connect(subject.node, 3000)
          try {
            const snapshot = await api.readStats()
            const users = new Set(
              snapshot.counters
                .filter((sample) => sample.name.startsWith('user>>>'))
                .map((sample) => sample.name.split('>>>')[1]),
            )
            assert.deepEqual([...users].sort(), [...seeded].sort(), 'the users with counters')
            for (const sample of snapshot.counters)
              assert.ok(Number.isSafeInteger(sample.value) && sample.value >= 0, sample.name)
            assert.ok(['process', 'user'].includes(api.counterLifetime), `counterLifetime "${api.counterLifetime}"`)
            assert.equal(
              api.onlineIps !== undefined,
              driver.onlineIps,
              'the driver says onlineIps exactly when its API has them',
            )
          } finally {
            api.close()
          }
        } else {
          assert.equal(driver.traffic, 'pushed')
          assert.equal(driver.connect, undefined, 'a pushed type has no API sbq reads')
          assert.equal(driver.onlineIps, false, 'online IPs are asked through an API a pushed type does not have')
          await assert.rejects(
            async () => connectNode(subject.node),
            (error) => error instanceof SbqError && error.code === 'NODE_HAS_NO_PROXY_API' && error.exit === 2,
          )
        }
      },
    )

    it(
      'applyUsers leaves exactly the active managed users, the others untouched, counters billed first',
      testTimeout,
      async () => {
        const {subject, events} = fresh()
        const liveBefore = subject.live?.()
        const configBefore = subject.config?.()
        const configText = subject.node.config_path === null ? null : readFileSync(subject.node.config_path, 'utf8')
        const request = aliceOutBobIn(subject.node)
        const outcome = await driver.applyUsers(request, loggingHost(events, subject, request.removed))

        assert.equal(typeof outcome.method, 'string')
        assert.notEqual(outcome.method, '', 'the method is named')
        assert.ok(
          !['none', 'report-only'].includes(outcome.method),
          `the node was changed, yet the method is "${outcome.method}"`,
        )
        assert.ok(
          liveBefore !== undefined || configBefore !== undefined,
          `the ${driver.type} harness shows neither live users nor a config: nothing to check`,
        )
        if (liveBefore !== undefined) assertCarriesExactly('live', liveBefore, subject.live!(), ['bob'])
        if (driver.defaultApplyCommand !== null) {
          assert.ok(
            configBefore,
            `${driver.type} rewrites a config (it has a default apply command): its harness must read it`,
          )
          const configAfter = subject.config!()
          assertCarriesExactly('config', configBefore, configAfter, ['bob'])
          assertDriverReadsConfig(driver, subject, configAfter)
        } else if (configText !== null) {
          assert.equal(
            readFileSync(subject.node.config_path!, 'utf8'),
            configText,
            `${driver.type} rewrites no config (no default apply command), so its file is left byte for byte`,
          )
        }
        await assertBilledFirst(driver, subject, outcome, readEvents(events), request.removed)
      },
    )

    it(
      'applyUsers puts a user with an inbound choice on the chosen inbound only, and takes them off it when it is no longer chosen',
      testTimeout,
      async () => {
        const {subject, events} = fresh()
        const view = () => subject.live?.() ?? subject.config!()
        const chosen = harness.bobsInbound ?? [...view().keys()][0]!
        const managedOn = (users: UserView) =>
          [...users].map(([tag, entries]) => [tag, names(entries).filter((name) => managed.has(name))])
        const expectOn = (users: UserView, onBob: (tag: string) => boolean) =>
          [...users.keys()].map((tag) => [tag, onBob(tag) ? ['bob'] : []])

        const bobThere = {...bob, inbounds: [chosen]}
        const first = change(subject.node, [bobThere], ['alice', 'carol'], [bobThere])
        await driver.applyUsers(first, loggingHost(events, subject, first.removed))
        const onlyChosen = (tag: string) => tag === chosen || harness.bobsInbound !== undefined
        if (subject.live) assert.deepEqual(managedOn(subject.live()), expectOn(subject.live(), onlyChosen), 'live')
        if (driver.defaultApplyCommand !== null)
          assert.deepEqual(managedOn(subject.config!()), expectOn(subject.config!(), onlyChosen), 'config')

        const bobElsewhere = {...bob, inbounds: ['an-inbound-this-node-lacks']}
        const second = change(subject.node, [bobElsewhere], [], [bobElsewhere])
        await driver.applyUsers(second, loggingHost(events, subject, second.removed))
        if (subject.live)
          assert.deepEqual(
            managedOn(subject.live()),
            expectOn(subject.live(), () => false),
            'live',
          )
        if (driver.defaultApplyCommand !== null)
          assert.deepEqual(
            managedOn(subject.config!()),
            expectOn(subject.config!(), () => false),
            'config',
          )
        if (harness.switches) assert.equal(harness.switches().get('bob'), false, "bob's client is switched off")
      },
    )

    it('a change that cuts sessions (cut_sessions) is checked, billed and loaded', testTimeout, async () => {
      const {subject, events} = fresh()
      subject.node.cut_sessions = 1
      const request = aliceOutBobIn(subject.node)
      const outcome = await driver.applyUsers(request, loggingHost(events, subject, request.removed))
      const log = readEvents(events)
      if (driver.defaultApplyCommand !== null) {
        assert.ok(
          log.includes('apply'),
          `sessions of a removed user end only when the proxy reloads or restarts (method "${outcome.method}", events: ${log.join(', ')})`,
        )
      }
      await assertBilledFirst(driver, subject, outcome, log, request.removed)
    })

    it(
      'removing every managed user leaves no managed inbound without a user (locked placeholder); switched clients are disabled, not deleted',
      testTimeout,
      async () => {
        const {subject, events} = fresh()
        const liveBefore = subject.live?.()
        const configBefore = subject.config?.()
        const switchesBefore = harness.switches?.()
        const request = change(subject.node, [], ['alice', 'bob', 'carol'], [])
        const outcome = await driver.applyUsers(request, loggingHost(events, subject, request.removed))
        assert.ok(typeof outcome.method === 'string' && outcome.method !== '', 'the method is named')

        if (liveBefore !== undefined) assertNoneLeftEmpty('live', liveBefore, subject.live!(), harness)
        if (configBefore !== undefined) {
          const configAfter = subject.config!()
          assertNoneLeftEmpty('config', configBefore, configAfter, harness)
          assertDriverReadsConfig(driver, subject, configAfter)
          const emptied = [...configBefore]
            .filter(([, users]) => unmanagedEntries(users).length === 0)
            .map(([tag]) => tag)
          assert.ok(
            emptied.length > 0,
            'the fixture has an inbound only managed users hold, so the placeholder is exercised',
          )
        }
        if (switchesBefore !== undefined) {
          const switchesAfter = harness.switches!()
          assert.deepEqual(
            [...switchesAfter.keys()].sort(),
            [...switchesBefore.keys()].sort(),
            'no client is created or deleted',
          )
          for (const name of managed)
            if (switchesBefore.has(name)) assert.equal(switchesAfter.get(name), false, `${name} is switched off`)
          for (const [name, on] of switchesBefore)
            if (!managed.has(name)) assert.equal(switchesAfter.get(name), on, `${name}, not managed, keeps its state`)
        }
        await assertBilledFirst(driver, subject, outcome, readEvents(events), request.removed)
      },
    )

    it(
      'probe reports uptime, users, live changes and online IPs as the driver and its stub say',
      testTimeout,
      async () => {
        const {subject} = fresh()
        const seeded = harness.seedProbe()
        const probe = await driver.probe(subject.node)
        assert.ok(
          probe.uptime === null || (typeof probe.uptime === 'number' && probe.uptime >= 0),
          `uptime ${probe.uptime}`,
        )
        assert.equal(probe.users, seeded.length, 'users counted')
        assert.ok(
          Number.isSafeInteger(probe.userCounters) && probe.userCounters >= 0,
          `userCounters ${probe.userCounters}`,
        )
        assert.equal(typeof probe.liveUserChanges, 'boolean')
        assert.equal(
          probe.liveUserChanges,
          subject.live !== undefined,
          "liveUserChanges agrees with whether the running proxy's users change",
        )
        assert.equal(typeof probe.onlineIps, 'boolean')
        if (driver.traffic === 'pulled') {
          assert.equal(probe.onlineIps, driver.onlineIps, 'probe and driver agree on online IPs')
          assert.equal(probe.userCounters, 2 * seeded.length, 'an uplink and a downlink counter per user')
          const api = await driver.connect!(subject.node, 3000)
          try {
            const snapshot = await api.readStats()
            assert.equal(
              probe.uptime === null,
              snapshot.uptimeSeconds === null,
              'uptime is known exactly when the API tells it',
            )
          } finally {
            api.close()
          }
        } else {
          assert.equal(probe.onlineIps, false)
        }
      },
    )

    it(
      "readConfigInbounds lists the fixture's inbounds and refuses an unknown tag",
      {
        ...testTimeout,
        skip:
          driver.readConfigInbounds === undefined
            ? 'no readConfigInbounds: users are kept in no config sbq reads'
            : false,
      },
      () => {
        const read = driver.readConfigInbounds!
        const fixture = harness.fixture
        assert.ok(fixture, `${driver.type} reads configs: its harness must name the fixture to read`)
        const text = readFileSync(join(fixturesDir, fixture.file), 'utf8')
        const inbounds = read(text, fixture.file, undefined)
        assert.deepEqual(
          inbounds.map((inbound) => inbound.tag),
          [...fixture.tags],
        )
        const raw = fixture.read(text, fixture.tags)
        for (const inbound of inbounds) {
          assert.ok(inbound.protocol !== '', `inbound "${inbound.tag}" names its protocol`)
          assert.deepEqual(
            inbound.users.map((user) => user.name),
            [...(raw.get(inbound.tag)?.keys() ?? [])],
            `the users of "${inbound.tag}"`,
          )
        }
        const one = fixture.tags[1]!
        assert.deepEqual(
          read(text, fixture.file, [one]).map((inbound) => inbound.tag),
          [one],
          'only the tags asked for',
        )
        assert.throws(
          () => read(text, fixture.file, [one, 'no-such-inbound']),
          (error) =>
            error instanceof SbqError &&
            error.code === 'INBOUND_NOT_FOUND' &&
            error.message.includes('"no-such-inbound"'),
        )
      },
    )

    it(
      'lostUsers sees a restart that forgot the applied users, and nothing when they are all there',
      {
        ...testTimeout,
        skip: driver.lostUsers === undefined ? 'no lostUsers: this type cannot lose users behind sbq' : false,
      },
      async () => {
        const lostUsers = driver.lostUsers!
        assert.ok(
          harness.restartForgettingUsers,
          `${driver.type} can lose users: its harness must restart its stub forgetting them`,
        )
        const {subject, events} = fresh()
        const request = aliceOutBobIn(subject.node)
        await driver.applyUsers(request, loggingHost(events, subject, request.removed))
        const applied = new Set(request.active.map((user) => user.name))
        assert.equal(await lostUsers(subject.node, applied, new Map()), false, 'every applied user is there')
        assert.equal(await lostUsers(subject.node, new Set(), new Map()), false, 'nothing applied, nothing to lose')
        harness.restartForgettingUsers()
        assert.equal(await lostUsers(subject.node, applied, new Map()), true, 'the restart forgot them')
      },
    )
  })
}
