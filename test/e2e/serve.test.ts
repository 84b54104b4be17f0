import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {request as httpRequest} from 'node:http'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {dumpDatabase} from '../support/db-dump.js'
import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {startServe, type RunningServe} from '../support/run-serve.js'

const MiB = 1024 * 1024
const fixture = (name: string) => readFileSync(join(fixturesDir, '3x-ui', name), 'utf8')

/** Every sample line of a Prometheus text exposition, or a failure naming the first line that is not one. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\} (-?[0-9.eE+-]+|NaN|[+-]Inf)$/
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue
    const match = sample.exec(line)
    assert.ok(match, `not a Prometheus sample line: ${JSON.stringify(line)}`)
    samples.set(`${match[1]}{${match[2]}}`, Number(match[3]))
  }
  return samples
}

describe('sbq serve: 3x-ui reports from two nodes into one ledger (real bin/sbq, real HTTP)', () => {
  const workspace = tempWorkspace('sbq-serve-')
  const env = {SBQ_NOW: '2024-05-20T12:00:00Z'}
  const sbq = async (...args: string[]) => {
    const result = await runSbq(args, {db: workspace.db, env})
    assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
    return result
  }
  let serve: RunningServe
  let uri: {de1: string; nl1: string}
  let metricsToken: string

  const post = (url: string, body: string | Buffer, init: RequestInit = {}) =>
    fetch(url, {method: 'POST', body, headers: {'content-type': 'application/json'}, ...init})
  const usage = async () => {
    const users = (await sbq('user', 'list', '--json')).json as Array<{
      name: string
      periodUp: number
      periodDown: number
      status: string
    }>
    return Object.fromEntries(
      users.map((user) => [user.name, {up: user.periodUp, down: user.periodDown, status: user.status}]),
    )
  }

  before(async () => {
    await sbq('config', 'set', 'timezone', 'UTC')
    await sbq('user', 'add', 'alice', '--monthly', '20M', '--no-apply')
    await sbq('user', 'add', 'bob', '--monthly', '1G', '--no-apply')
    serve = await startServe(workspace.db, env)
    metricsToken = /\/metrics token .*: (\S+)$/m.exec(serve.stderr())![1]!
    const add = async (name: string) =>
      (await sbq('node', 'add', name, '--type', '3x-ui', '--public-url', serve.base, '--json')).json.informUri as string
    uri = {de1: await add('de1'), nl1: await add('nl1')}
  })

  after(async () => {
    await serve?.stop()
    workspace.cleanup()
  })

  it('starts quickly and prints the address it bound', () => {
    assert.ok(serve.startedInMs < 3000, `started in ${serve.startedInMs} ms`)
    assert.match(uri.de1, new RegExp(`^${serve.base}/inform/de1/[A-Za-z0-9_-]{43}$`))
  })

  it('answers /healthz', async () => {
    const response = await fetch(`${serve.base}/healthz`)
    assert.deepEqual([response.status, await response.text()], [200, 'ok\n'])
  })

  it("adds both nodes' reports to one user: the period usage is the sum", async () => {
    for (const [url, body] of [
      [uri.de1, fixture('inform-de1.json')],
      [uri.nl1, fixture('inform-nl1.json')],
      [uri.nl1, fixture('inform-idle.json')],
    ] as const) {
      const response = await post(url, body)
      assert.equal(response.status, 200, await response.text())
    }
    const users = await usage()
    assert.deepEqual(users.alice, {up: 1048576 + 524288, down: 8388608 + 3145728, status: 'active'})
    assert.deepEqual(users.bob, {up: 2048, down: 10240, status: 'active'})
    const report = (await sbq('user', 'show', 'alice', '--json')).json
    assert.equal(report.name, 'alice')
  })

  it('report --by inbound shows what each 3x-ui inbound carried, per node, as the panels reported it', async () => {
    const report = (await sbq('report', '--by', 'inbound', '--json')).json
    assert.equal(report.kind, 'inbounds')
    assert.deepEqual(
      report.rows.map((row: {node: string; name: string; up: number; down: number}) => [
        row.node,
        row.name,
        row.up,
        row.down,
      ]),
      [
        ['de1', 'inbound-443', 1052672, 8454144],
        ['nl1', 'inbound-8443', 526336, 3155968],
      ],
      'outbound rows and the idle api inbound are not inbounds that carried traffic',
    )
    assert.equal(report.totals.total, 1052672 + 8454144 + 526336 + 3155968)
    const one = (await sbq('report', '--by', 'inbound', '--node', 'nl1', '--json')).json
    assert.deepEqual(
      one.rows.map((row: {name: string}) => row.name),
      ['inbound-8443'],
    )
    const table = (await sbq('report', '--by', 'inbound')).stdout
    assert.match(table, /de1\s*│\s*inbound-443\s*│\s*1\.0 MiB\s*│\s*8\.1 MiB/)
    const csv = (await sbq('report', '--by', 'inbound', '--format', 'csv')).stdout.trim().split('\r\n')
    assert.deepEqual(csv[0], 'kind,node,inbound,up,down,total')
    assert.ok(csv.includes('inbound,nl1,inbound-8443,526336,3155968,3682304'), csv.join('\n'))
    const empty = (await sbq('report', '--by', 'inbound', '--month', '2024-04')).stdout
    assert.match(empty, /no inbound traffic reported in 2024-04/)
  })

  it('refuses what the sender got wrong, each time recording nothing but the refusal on the node', async () => {
    // Only the refusal is kept (3x-ui never reads the status): its columns are compared in serve-refusals.test.ts.
    const refusalColumns = [
      'refused_reports',
      'refused_names',
      'last_refused_at',
      'last_refusal_status',
      'last_refusal_reason',
      'last_refusal_bytes',
    ]
    const dumpWithoutRefusals = () => {
      const dump = dumpDatabase(workspace.db)
      dump.nodes = dump.nodes!.map((node) =>
        Object.fromEntries(Object.entries(node as object).filter(([column]) => !refusalColumns.includes(column))),
      )
      return dump
    }
    const before = dumpWithoutRefusals()
    const wrongToken = uri.de1.replace(/[^/]+$/, 'A'.repeat(43))
    const otherNodesToken = uri.de1.replace('/inform/de1/', '/inform/nl1/')
    const cases: Array<[string, () => Promise<Response>, number]> = [
      ['wrong token', () => post(wrongToken, fixture('inform-de1.json')), 404],
      ["another node's token", () => post(otherNodesToken, fixture('inform-de1.json')), 404],
      ['no such node', () => post(uri.de1.replace('/inform/de1/', '/inform/ghost/'), fixture('inform-de1.json')), 404],
      ['no token', () => post(uri.de1.replace(/\/[^/]+$/, ''), fixture('inform-de1.json')), 404],
      ['oversized body', () => post(uri.de1, Buffer.alloc(64 * MiB + 1, 0x20)), 413],
      ['malformed JSON', () => post(uri.de1, '{"clientTraffics":[{"email":"alice",'), 400],
      ['negative bytes', () => post(uri.de1, '{"clientTraffics":[{"email":"alice","up":-5,"down":0}]}'), 400],
      ['fractional bytes', () => post(uri.de1, '{"clientTraffics":[{"email":"alice","up":0.5,"down":0}]}'), 400],
      ['bytes past 2^53', () => post(uri.de1, '{"clientTraffics":[{"email":"alice","up":1e16,"down":0}]}'), 400],
      ['GET', () => fetch(uri.de1), 405],
      ['PUT', () => fetch(uri.de1, {method: 'PUT', body: fixture('inform-de1.json')}), 405],
    ]
    for (const [what, send, status] of cases) {
      const response = await send()
      const text = await response.text()
      assert.equal(response.status, status, `${what}: ${text}`)
      if (status === 404) assert.equal(text, 'not found\n', `${what}: a 404 says nothing about which nodes exist`)
      assert.deepEqual(dumpWithoutRefusals(), before, `${what} changed the database`)
    }
  })

  it('loses nothing under 50 concurrent POSTs', async () => {
    const before = (await usage()).alice!
    const body = JSON.stringify({clientTraffics: [{email: 'alice', up: 1, down: 1000}], inboundTraffics: []})
    const responses = await Promise.all(
      Array.from({length: 50}, (_, index) => post(index % 2 === 0 ? uri.de1 : uri.nl1, body)),
    )
    assert.deepEqual(
      responses.map((response) => response.status),
      Array(50).fill(200),
    )
    assert.deepEqual((await usage()).alice, {up: before.up + 50, down: before.down + 50_000, status: 'active'})
  })

  it('serves /metrics only with the bearer token, as Prometheus text', async () => {
    assert.equal((await fetch(`${serve.base}/metrics`)).status, 401)
    assert.equal((await fetch(`${serve.base}/metrics`, {headers: {authorization: 'Bearer wrong'}})).status, 401)
    const response = await fetch(`${serve.base}/metrics`, {headers: {authorization: `Bearer ${metricsToken}`}})
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/)
    const samples = parsePrometheus(await response.text())
    const alice = (await usage()).alice!
    assert.equal(samples.get('sbq_user_period_bytes{user="alice",direction="down"}'), alice.down)
    assert.equal(samples.get('sbq_user_allowance_bytes{user="alice"}'), 20 * MiB)
    assert.equal(samples.get('sbq_user_status{user="alice",status="active"}'), 1)
    assert.equal(samples.get('sbq_user_status{user="alice",status="limited"}'), 0)
    assert.equal(
      samples.get('sbq_node_last_report_timestamp_seconds{node="de1",type="3x-ui"}'),
      Date.parse(env.SBQ_NOW) / 1000,
    )
    assert.equal(samples.get('sbq_node_bytes_total{node="nl1",direction="up"}'), 524288 + 2048 + 25)
  })

  it('check limits a user over quota on 3x-ui nodes without a panel login: says it could not act, exits 0', async () => {
    await post(uri.de1, JSON.stringify({clientTraffics: [{email: 'alice', up: 0, down: 10 * MiB}]}))
    const check = await runSbq(['check', '--json'], {db: workspace.db, env})
    assert.equal(check.code, 0, check.stderr)
    assert.deepEqual(
      check.json.changes.map((change: {user: string; to: string}) => [change.user, change.to]),
      [['alice', 'limited']],
    )
    const de1 = check.json.nodes.find((node: {name: string}) => node.name === 'de1')
    assert.deepEqual([de1.method, de1.error], ['report-only', null])
    assert.match(
      de1.warning,
      /no panel login, so sbq could not act; over quota, expired or disabled but still enabled there: alice/,
    )
    const human = await runSbq(['check'], {db: workspace.db, env})
    assert.deepEqual([human.code, human.stdout], [0, ''], 'told once per change, not every run')
  })

  it('rotate-token: the old URL is a 404 at once, the new one works', async () => {
    const rotated = (await sbq('node', 'rotate-token', 'de1', '--json')).json.informUri as string
    assert.notEqual(rotated, uri.de1)
    assert.equal((await post(uri.de1, fixture('inform-idle.json'))).status, 404)
    assert.equal((await post(rotated, fixture('inform-idle.json'))).status, 200)
  })

  it('--rotate-metrics-token prints a new token once and exits', async () => {
    const rotated = await sbq('serve', '--rotate-metrics-token', '--json')
    assert.match(rotated.json.metricsToken, /^\S{32,}$/)
    assert.notEqual(rotated.json.metricsToken, metricsToken)
  })

  it('stops on SIGTERM after finishing a request in flight', async () => {
    const body = JSON.stringify({clientTraffics: [{email: 'bob', up: 7, down: 7}]})
    const before = (await usage()).bob!
    const url = new URL(uri.nl1)
    const answered = new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)},
        },
        (response) => {
          response.resume()
          resolve(response.statusCode!)
        },
      )
      request.on('error', reject)
      request.write(body.slice(0, 10))
      setTimeout(() => {
        serve.child.kill('SIGTERM')
        setTimeout(() => request.end(body.slice(10)), 300)
      }, 200)
    })
    assert.equal(await answered, 200)
    assert.equal(await serve.stop(), 0)
    assert.match(serve.stderr(), /stopping: finishing requests in flight/)
    assert.deepEqual((await usage()).bob, {up: before.up + 7, down: before.down + 7, status: 'active'})
  })
})
