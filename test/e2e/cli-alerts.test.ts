import assert from 'node:assert/strict'
import {createHmac} from 'node:crypto'
import {type IncomingHttpHeaders, type Server, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'

import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {assertJsonError} from '../support/assertions.js'

const workspace = tempWorkspace()
const secret = 'e2e-signing-secret-abcd'
const token = '123456:E2EtokenABCDEFGHIJKLMNOPQRSTUVWXYZ'

interface Received {
  url: string
  headers: IncomingHttpHeaders
  body: string
}

// One loopback endpoint for every channel: /ok answers 200, /fail 500, /bot<token>/sendMessage like Telegram.
const received: Received[] = []
const server: Server = createServer((request, response) => {
  const chunks: Buffer[] = []
  request.on('data', (chunk: Buffer) => chunks.push(chunk))
  request.on('end', () => {
    received.push({url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8')})
    if (request.url === '/fail') response.writeHead(500).end('broken')
    else if (request.url?.endsWith('/sendMessage'))
      response.writeHead(200, {'content-type': 'application/json'}).end('{"ok":true,"result":{}}')
    else response.writeHead(200).end()
  })
})
let base = ''

const sbq = (...args: string[]) =>
  runSbq(args, {db: workspace.db, env: {SBQ_NOW: '2024-05-10T12:00:00Z', SBQ_TELEGRAM_API: base}})

function requestsTo(path: string): Received[] {
  return received.filter((request) => request.url === path)
}

describe('sbq alert commands (real bin/sbq)', () => {
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const set = await sbq('config', 'set', 'timezone', 'UTC', '--json')
    assert.equal(set.code, 0, set.stderr)
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    workspace.cleanup()
  })

  it('alert test without channels says so (exit 3)', async () => {
    assertJsonError(await sbq('alert', 'test', '--json'), 3, 'NO_ALERT_CHANNELS', /no alert channels/)
  })

  it('alert add webhook stores the secret and shows only its last 4 characters', async () => {
    const added = await sbq('alert', 'add', 'webhook', `${base}/ok`, '--secret', secret, '--json')
    assert.equal(added.code, 0, added.stderr)
    assert.deepEqual(
      [added.json.id, added.json.type, added.json.target, added.json.secret],
      [1, 'webhook', `${base}/ok`, '***abcd'],
    )
    assert.doesNotMatch(added.stdout, /e2e-signing-secret/)
  })

  it('alert list hides the secret, in a table and in --json', async () => {
    const table = await sbq('alert', 'list')
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /1.*webhook.*\/ok.*\*\*\*abcd/)
    const json = await sbq('alert', 'list', '--json')
    assert.deepEqual(
      json.json.map((channel: {id: number; secret: string; pending: number}) => [
        channel.id,
        channel.secret,
        channel.pending,
      ]),
      [[1, '***abcd', 0]],
    )
    assert.doesNotMatch(table.stdout + json.stdout, /e2e-signing-secret/)
  })

  it('alert test delivers one POST signed with the HMAC of its exact body', async () => {
    const result = await sbq('alert', 'test', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(result.json, [{channel: 1, label: `1 (webhook ${base}/ok)`, sent: true}])
    const [request, ...more] = requestsTo('/ok')
    assert.equal(more.length, 0)
    assert.equal(
      request!.headers['x-sbq-signature'],
      `sha256=${createHmac('sha256', secret).update(request!.body).digest('hex')}`,
    )
    const body = JSON.parse(request!.body)
    assert.deepEqual([body.kind, body.user, body.at], ['test', null, '2024-05-10T12:00:00.000Z'])
    assert.match(body.text, /^sbq: test alert from /)
  })

  it('a receiver answering 500 makes alert test exit 4 with one line naming the channel', async () => {
    assert.equal((await sbq('alert', 'add', 'webhook', `${base}/fail`, '--json')).code, 0)
    const human = await sbq('alert', 'test')
    assert.equal(human.code, 4)
    assert.equal(
      human.stderr,
      `error: alert channel 2 (webhook ${base}/fail) failed: HTTP 500: broken (check that the endpoint is up and its URL, chat or token is right; see: sbq alert list)\n`,
    )
    assert.equal(requestsTo('/fail').length, 3, 'three tries, then it gives up')
    assertJsonError(
      await sbq('alert', 'test', '--json'),
      4,
      'ALERT_DELIVERY_FAILED',
      /^alert channel 2 .* failed: HTTP 500/,
    )
    assert.equal((await sbq('alert', 'test', '1', '--json')).code, 0, 'testing only the working channel succeeds')
  })

  it('telegram goes to the API base in SBQ_TELEGRAM_API, and its token is never listed', async () => {
    const added = await sbq('alert', 'add', 'telegram', '--token', token, '--chat', '42', '--json')
    assert.equal(added.code, 0, added.stderr)
    assert.equal(added.json.secret, '***WXYZ')
    const sent = await sbq('alert', 'test', '3', '--json')
    assert.equal(sent.code, 0, sent.stderr)
    const [request] = requestsTo(`/bot${token}/sendMessage`)
    assert.equal(JSON.parse(request!.body).chat_id, '42')
    assert.doesNotMatch((await sbq('alert', 'list')).stdout, /E2Etoken/)
  })

  it('alert remove drops a channel; removing it again is exit 3', async () => {
    const removed = await sbq('alert', 'remove', '2', '--json')
    assert.deepEqual(removed.json, {id: 2, removed: true})
    assert.deepEqual(
      (await sbq('alert', 'list', '--json')).json.map((channel: {id: number}) => channel.id),
      [1, 3],
    )
    assertJsonError(
      await sbq('alert', 'remove', '2', '--json'),
      3,
      'ALERT_CHANNEL_NOT_FOUND',
      /alert channel 2 does not exist/,
    )
  })

  it("a webhook URL's password and tokens are masked in alert list (table and --json) and in alert test's error", async () => {
    // A port that refuses: a listener closed before the test, so the connection fails on loopback at once.
    const refusing = createServer()
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve))
    const port = (refusing.address() as AddressInfo).port
    await new Promise<void>((resolve) => refusing.close(() => resolve()))
    const url = `http://ops:Hunter2Password@127.0.0.1:${port}/services/T0/B0/SlackPathTokenQ7Xy9Zw3?token=QueryTokenZ8vK2mP4`
    const added = await sbq('alert', 'add', 'webhook', url, '--json')
    assert.equal(added.code, 0, added.stderr)
    const shown = `http://***:***@127.0.0.1:${port}/services/T0/B0/***9Zw3?token=***2mP4`
    assert.equal(added.json.target, shown)
    const id = String(added.json.id)
    const table = await sbq('alert', 'list')
    const json = await sbq('alert', 'list', '--json')
    assert.equal(json.json.find((channel: {id: number}) => channel.id === added.json.id).target, shown)
    assert.ok(table.stdout.includes(`127.0.0.1:${port}`), table.stdout)
    const failed = await sbq('alert', 'test', id)
    assert.equal(failed.code, 4)
    assert.match(
      failed.stderr,
      new RegExp(
        `^error: alert channel ${id} \\(webhook http://\\*\\*\\*:\\*\\*\\*@127\\.0\\.0\\.1:${port}/.*\\) failed: .*ECONNREFUSED`,
      ),
    )
    const failedJson = await sbq('alert', 'test', id, '--json')
    assertJsonError(failedJson, 4, 'ALERT_DELIVERY_FAILED', /ECONNREFUSED/)
    const everything = [added, table, json, failed, failedJson]
      .map((result) => result.stdout + result.stderr)
      .join('\n')
    for (const secret of ['Hunter2Password', 'SlackPathToken', 'QueryTokenZ8'])
      assert.ok(!everything.includes(secret), `${secret} was shown:\n${everything}`)
    assert.equal((await sbq('alert', 'remove', id, '--json')).code, 0)
  })

  it('refuses a bad URL, an unknown type and a missing token with exit 2 and one line', async () => {
    assertJsonError(
      await sbq('alert', 'add', 'webhook', 'not-a-url', '--json'),
      2,
      'INVALID_WEBHOOK_URL',
      /webhook URL "not-a-url" is not an http\(s\) URL/,
    )
    assertJsonError(await sbq('alert', 'add', 'pager', '--json'), 2, 'INVALID_USAGE', /pager/)
    assertJsonError(
      await sbq('alert', 'add', 'telegram', '--chat', '42', '--json'),
      2,
      'INVALID_ALERT_CHANNEL',
      /needs --token/,
    )
    const human = await sbq('alert', 'add', 'webhook', 'ftp://example.com/x')
    assert.equal(human.code, 2)
    assert.equal(human.stderr.trimEnd().split('\n').length, 1, human.stderr)
    assert.deepEqual((await sbq('alert', 'list', '--json')).json.length, 2, 'nothing was added')
  })
})
