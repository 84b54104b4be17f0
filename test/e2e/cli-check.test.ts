import assert from 'node:assert/strict'
import {createHmac} from 'node:crypto'
import {copyFileSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import BetterSqlite3 from 'better-sqlite3'

import {dumpDatabase} from '../support/db-dump.js'
import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {SingBoxEmulator} from '../support/sing-box-emulator.js'
import type {StubV2rayApi} from '../support/stub-v2ray-api.js'
import {sqliteOnly} from '../support/test-database.js'

const MiB = 1024 * 1024

interface SingBoxConfig {
  inbounds: Array<{tag: string; users?: Array<{name?: string; username?: string}>}>
  experimental: {v2ray_api: {stats: {users: string[]}}}
}

function usersIn(path: string): {inbounds: Record<string, string[]>; stats: string[]} {
  const config = JSON.parse(readFileSync(path, 'utf8')) as SingBoxConfig
  const inbounds = Object.fromEntries(
    config.inbounds
      .filter((inbound) => inbound.users)
      .map((inbound) => [inbound.tag, inbound.users!.map((user) => user.name ?? user.username!)]),
  )
  return {inbounds, stats: config.experimental.v2ray_api.stats.users}
}

/** A webhook endpoint on loopback that can be told to fail, and keeps what it received. */
async function startReceiver(): Promise<{
  url: string
  received: Array<{body: string; signature: string | undefined}>
  failing: boolean
  server: Server
}> {
  const receiver = {
    url: '',
    received: [] as Array<{body: string; signature: string | undefined}>,
    failing: true,
    server: createServer(),
  }
  receiver.server.on('request', (request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => (body += chunk.toString()))
    request.on('end', () => {
      if (receiver.failing) {
        response.writeHead(500).end('down for maintenance')
        return
      }
      receiver.received.push({body, signature: request.headers['x-sbq-signature'] as string | undefined})
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve))
  const address = receiver.server.address() as {port: number}
  receiver.url = `http://127.0.0.1:${address.port}/hook`
  return receiver
}

describe('sbq check against a sing-box node (stub API, real config file)', () => {
  const workspace = tempWorkspace('sbq-check-')
  const configPath = join(workspace.dir, 'config.json')
  const env = {SBQ_NOW: '2024-05-20T12:00:00Z'}
  const sbq = (...args: string[]) => runSbq(args, {db: workspace.db, env})
  let singBox: SingBoxEmulator
  let stub: StubV2rayApi
  let receiver: Awaited<ReturnType<typeof startReceiver>>

  // The node's apply command signals this process, where the emulated sing-box reloads its config as on SIGHUP.
  const reload = `kill -USR2 ${process.pid}`

  before(async () => {
    copyFileSync(join(fixturesDir, 'sing-box-config.json'), configPath)
    singBox = await SingBoxEmulator.start({configPath, uptimeSeconds: 3600, signal: 'SIGUSR2'})
    stub = singBox.api
    receiver = await startReceiver()
    for (const args of [
      ['config', 'set', 'timezone', 'UTC'],
      ['user', 'add', 'alice', '--monthly', '1M', '--no-apply'],
      ['user', 'add', 'bob', '--monthly', '100M', '--no-apply'],
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
        '--inbound',
        'vless-in',
        '--inbound',
        'trojan-in',
        '--apply',
        reload,
      ],
    ]) {
      const result = await sbq(...args)
      assert.equal(result.code, 0, result.stderr)
    }
  })

  after(async () => {
    await singBox.close()
    receiver.server.close()
    workspace.cleanup()
  })

  it('the first check puts every active user on the managed inbounds and keeps others untouched', async () => {
    const result = await sbq('check', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual([result.json.nodes[0].method, result.json.nodes[0].added], ['config+reload', ['alice', 'bob']])
    const users = usersIn(configPath)
    assert.deepEqual(users.inbounds['vless-in'], ['guest', 'dave', 'alice', 'bob'])
    assert.deepEqual(users.inbounds['trojan-in'], ['guest', 'dave', 'alice', 'bob'])
    assert.deepEqual(users.inbounds['vmess-in'], ['alice'], 'an inbound sbq does not manage is left alone')
    assert.deepEqual(users.stats, ['guest', 'dave', 'alice', 'bob'])
  })

  it('--dry-run reports the change and changes nothing', async () => {
    singBox.addTraffic('alice', 0, 2 * MiB)
    const dbBefore = dumpDatabase(workspace.db)
    const configBefore = readFileSync(configPath, 'utf8')
    const result = await sbq('check', '--dry-run', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(
      result.json.changes.map((change: {user: string; to: string}) => [change.user, change.to]),
      [],
    )
    assert.deepEqual(dumpDatabase(workspace.db), dbBefore)
    assert.equal(readFileSync(configPath, 'utf8'), configBefore)
    const human = await sbq('check', '--dry-run', '--no-pull')
    assert.equal(human.code, 0)
    assert.equal(human.stdout, '', 'without a pull nothing is over quota yet')
  })

  it('limits a user over quota: out of every managed list and of stats.users; others untouched', async () => {
    const result = await sbq('check', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(
      result.json.changes.map((change: {user: string; from: string; to: string}) => [
        change.user,
        change.from,
        change.to,
      ]),
      [['alice', 'active', 'limited']],
    )
    assert.deepEqual([result.json.nodes[0].method, result.json.nodes[0].removed], ['config+reload', ['alice']])
    const users = usersIn(configPath)
    assert.deepEqual(users.inbounds['vless-in'], ['guest', 'dave', 'bob'])
    assert.deepEqual(users.stats, ['guest', 'dave', 'bob'])
    assert.match(readFileSync(`${configPath}.sbq-bak`, 'utf8'), /"alice"/, 'the previous config is kept as a backup')
  })

  it('is silent when nothing changed', async () => {
    const result = await sbq('check')
    assert.deepEqual([result.code, result.stdout, result.stderr], [0, '', ''])
  })

  it('a failing apply command restores the config, reports the node, and the next check retries', async () => {
    assert.equal((await sbq('node', 'remove', 'sb')).code, 0)
    assert.equal(
      (
        await sbq(
          'node',
          'add',
          'sb',
          '--type',
          'sing-box',
          '--api',
          stub.address,
          '--config',
          configPath,
          '--inbound',
          'vless-in',
          '--apply',
          'echo reload refused >&2; exit 3',
        )
      ).code,
      0,
    )
    const configBefore = readFileSync(configPath, 'utf8')
    const reset = await sbq('reset', 'alice', '--json')
    assert.equal(reset.code, 0, 'the reset itself is saved')
    assert.match(reset.stderr, /warning: node "sb" was not updated: .*reload refused/)
    assert.equal(readFileSync(configPath, 'utf8'), configBefore, 'the old config is back, byte for byte')
    const check = await sbq('check')
    assert.equal(check.code, 4)
    assert.match(
      check.stderr,
      /^error: node "sb": .*reload refused.* \(the proxy may be down: check it by hand; the next check retries it\)$/m,
    )
    assert.equal((await sbq('node', 'remove', 'sb')).code, 0)
    assert.equal(
      (
        await sbq(
          'node',
          'add',
          'sb',
          '--type',
          'sing-box',
          '--api',
          stub.address,
          '--config',
          configPath,
          '--inbound',
          'vless-in',
          '--apply',
          reload,
        )
      ).code,
      0,
    )
    const retried = await sbq('check', '--json')
    assert.equal(retried.code, 0, retried.stderr)
    assert.deepEqual(usersIn(configPath).inbounds['vless-in'], ['guest', 'dave', 'alice', 'bob'])
  })

  it('--node pulls and puts in line only the named node; an unknown name is one line, exit 3, and changes nothing', async () => {
    assert.equal((await sbq('node', 'add', 'gone', '--type', 'v2ray', '--api', '127.0.0.1:1')).code, 0)
    try {
      assert.equal((await sbq('user', 'disable', 'bob', '--no-apply')).code, 0)
      const unknown = await sbq('check', '--node', 'sb', '--node', 'nosuch')
      assert.deepEqual(
        [unknown.code, unknown.stdout, unknown.stderr],
        [3, '', 'error: node "nosuch" does not exist (see: sbq node list)\n'],
      )
      assert.deepEqual(usersIn(configPath).inbounds['vless-in'], ['guest', 'dave', 'alice', 'bob'], 'nothing changed')

      const result = await sbq('check', '--node', 'sb', '--json')
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(
        result.json.changes.map((change: {user: string; to: string}) => [change.user, change.to]),
        [],
        'bob was disabled by hand: no change to judge',
      )
      assert.deepEqual(
        result.json.pulls.map((pull: {name: string}) => pull.name),
        ['sb'],
        'the unreachable node is not pulled',
      )
      assert.deepEqual(
        result.json.nodes.map((node: {name: string; removed: string[]}) => [node.name, node.removed]),
        [['sb', ['bob']]],
      )
      assert.deepEqual(usersIn(configPath).inbounds['vless-in'], ['guest', 'dave', 'alice'])
    } finally {
      assert.equal((await sbq('node', 'remove', 'gone')).code, 0)
      assert.equal((await sbq('user', 'enable', 'bob', '--no-apply')).code, 0)
    }
    assert.equal((await sbq('check')).code, 0)
  })

  it('an unreachable node fails alone: exit 4, the others are still put in line', async () => {
    assert.equal((await sbq('node', 'add', 'gone', '--type', 'v2ray', '--api', '127.0.0.1:1')).code, 0)
    try {
      assert.equal((await sbq('user', 'disable', 'bob', '--no-apply')).code, 0)
      const result = await sbq('check', '--json')
      assert.equal(result.code, 4)
      const byName = Object.fromEntries(result.json.nodes.map((node: {name: string}) => [node.name, node]))
      assert.deepEqual(byName.sb.removed, ['bob'])
      assert.match(byName.gone.error, /has no proxy config/)
      assert.equal(result.json.pulls.find((pull: {name: string}) => pull.name === 'gone').ok, false)
      assert.match(result.stderr, /error: node "gone" could not be pulled: node api "127\.0\.0\.1:1" is unreachable/)
      assert.deepEqual(usersIn(configPath).inbounds['vless-in'], ['guest', 'dave', 'alice'])
    } finally {
      assert.equal((await sbq('node', 'remove', 'gone')).code, 0)
      assert.equal((await sbq('user', 'enable', 'bob', '--no-apply')).code, 0)
    }
  })

  it("a reload sing-box refused is the node's error, its config goes back and the user stays unapplied; a good one is accepted", async () => {
    const bobUsed = async () =>
      ((await sbq('user', 'list', '--json')).json as Array<{name: string; totalUsed: number}>).find(
        (user) => user.name === 'bob',
      )!.totalUsed
    assert.equal((await sbq('check')).code, 0, 'bob, enabled again by the test before, is back on the node')
    const working = readFileSync(configPath, 'utf8')
    // A hand edit never reloaded: sing-box will refuse the next config it is asked to load, whoever wrote it.
    const edited = working.replace('"inbounds": [', '"inbounds": [\n    {"type": "bogus", "tag": "typo-in"},')
    writeFileSync(configPath, edited)
    const instances = singBox.instances
    singBox.addTraffic('bob', 1000, 4000)
    const before = await bobUsed()
    assert.equal((await sbq('user', 'disable', 'bob', '--no-apply')).code, 0)

    const refused = await sbq('check', '--json')
    assert.equal(refused.code, 4)
    assert.deepEqual([refused.json.nodes[0].removed, refused.json.nodes[0].applied], [['bob'], false])
    assert.match(
      refused.stderr,
      /^error: node "sb": sing-box refused the new config on "kill -USR2 \d+" and kept the old one \(its v2ray_api uptime did not start again within 10s\); sbq put the previous config ".*config\.json" back \(see why in journalctl -u sing-box; put sing-box on sbq's PATH so sbq checks each config before writing it; the next check retries it\)$/m,
    )
    assert.equal(readFileSync(configPath, 'utf8'), edited, 'the file is what sing-box still runs, byte for byte')
    assert.equal(singBox.instances, instances, 'the old instance kept running')
    assert.match(singBox.log.at(-1)!, /reload service: .*unknown inbound type: bogus/)
    assert.ok(singBox.countedUsers.includes('bob'), 'bob is still on the running sing-box')
    assert.equal(await bobUsed(), before + 5000, "bob's traffic is billed once")

    writeFileSync(configPath, working)
    const accepted = await sbq('check', '--json')
    assert.equal(accepted.code, 0, accepted.stderr)
    assert.deepEqual(
      [accepted.json.nodes[0].method, accepted.json.nodes[0].removed],
      ['config+reload', ['bob']],
      'bob was not recorded as removed: this check tried again',
    )
    assert.equal(singBox.instances, instances + 1, 'a new instance')
    assert.ok(!singBox.countedUsers.includes('bob'))
    assert.equal(await bobUsed(), before + 5000, 'the new instance counts from 0: nothing billed twice')
    assert.equal((await sbq('user', 'enable', 'bob', '--no-apply')).code, 0)
    assert.equal((await sbq('check')).code, 0)
  })

  it('a proxy config broken by hand: exit 4, one line naming the file and the spot, the file and its backup untouched', async () => {
    const working = readFileSync(configPath, 'utf8')
    const backup = readFileSync(`${configPath}.sbq-bak`, 'utf8')
    const broken = '{\n  "log": {"level": "warn"\n  "inbounds": []\n}\n'
    writeFileSync(configPath, broken)
    try {
      assert.equal((await sbq('user', 'disable', 'bob', '--no-apply')).code, 0)
      const result = await sbq('check')
      assert.equal(result.code, 4)
      assert.match(
        result.stderr,
        /^error: node "sb": sing-box config ".*config\.json" is not valid JSON at line 3, column 3: [^\n]*\(fix the file by hand; sbq did not change it; the next check retries it\)$/m,
      )
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace')
      assert.equal(readFileSync(configPath, 'utf8'), broken)
      assert.equal(readFileSync(`${configPath}.sbq-bak`, 'utf8'), backup)
    } finally {
      writeFileSync(configPath, working)
      assert.equal((await sbq('user', 'enable', 'bob', '--no-apply')).code, 0)
    }
    assert.equal((await sbq('check')).code, 0)
  })

  // The locks row is SQLite's lock itself; PostgreSQL's is an advisory lock (test/e2e/fleet.test.ts).
  it(
    'waits for a live lock holder, then leaves with one line and exit 0; a dead holder is replaced',
    {skip: sqliteOnly},
    async () => {
      const sqlite = new BetterSqlite3(workspace.db)
      try {
        sqlite
          .prepare('insert into locks (name, pid, host, acquired_at) values (?, ?, ?, ?)')
          .run('check:sb', process.pid, (await import('node:os')).hostname(), Date.now())
        const started = Date.now()
        const held = await sbq('check')
        assert.equal(held.code, 0)
        assert.ok(Date.now() - started >= 4000, 'it waited a few seconds first')
        assert.match(held.stderr, /^another sbq check \(pid \d+ on .*\) holds the lock of node "sb"\n$/)
        sqlite.prepare('update locks set pid = ? where name = ?').run(2 ** 22 + 12345, 'check:sb')
        const taken = await sbq('check', '--json')
        assert.equal(taken.code, 0, taken.stderr)
        assert.equal(taken.json.skipped, null)
        assert.deepEqual(sqlite.prepare('select count(*) as n from locks').get(), {n: 0}, 'released after the run')
      } finally {
        sqlite.close()
      }
    },
  )

  it('alerts: a failing endpoint never blocks enforcement; kept alerts go out once the endpoint is back, and only once', async () => {
    const withCredentials = receiver.url.replace('http://', 'http://ops:CheckPassword42@') + '?key=CheckQueryKey77'
    assert.equal((await sbq('alert', 'add', 'webhook', withCredentials, '--secret', 'shh-its-a-secret')).code, 0)
    singBox.addTraffic('bob', 0, 85 * MiB)
    receiver.failing = true
    const failing = await sbq('check', '--json')
    assert.equal(failing.code, 0, failing.stderr)
    assert.equal(failing.json.alerts.queued, 1)
    assert.equal(failing.json.alerts.failed.length, 1)
    assert.match(
      failing.stderr,
      /warning: alert channel \d+ \(webhook http:\/\/\*\*\*:\*\*\*@127\.0\.0\.1:\d+\/hook\?key=\*\*\*\) failed: HTTP 500/,
    )
    assert.match(failing.json.alerts.failed[0].channel, /^\d+ \(webhook http:\/\/\*\*\*:\*\*\*@/)
    for (const secret of ['CheckPassword42', 'CheckQueryKey77'])
      assert.ok(!(failing.stdout + failing.stderr).includes(secret), `${secret} shows in check's output`)

    receiver.failing = false
    const delivered = await sbq('check', '--json')
    assert.deepEqual([delivered.code, delivered.json.alerts.queued, delivered.json.alerts.sent], [0, 0, 1])
    assert.equal(receiver.received.length, 1)
    const [post] = receiver.received
    const body = JSON.parse(post!.body)
    assert.deepEqual([body.kind, body.user, body.threshold], ['threshold', 'bob', 80])
    assert.equal(post!.signature, `sha256=${createHmac('sha256', 'shh-its-a-secret').update(post!.body).digest('hex')}`)

    const again = await sbq('check', '--json')
    assert.deepEqual([again.json.alerts.queued, again.json.alerts.sent], [0, 0])
    assert.equal(receiver.received.length, 1, 'the same threshold in the same period alerts once')
  })
})
