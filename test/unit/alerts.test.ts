import assert from 'node:assert/strict'
import {createHmac} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {type IncomingHttpHeaders, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {Worker} from 'node:worker_threads'

import type {Kysely} from 'kysely'

import {up} from '../../migrations/0003-alerts.js'
import {readAlertRules} from '../../src/lib/alerts/alert-rules.js'
import {addChannel, listChannels, removeChannel} from '../../src/lib/alerts/channels.js'
import {deliverPending, sendTestAlerts} from '../../src/lib/alerts/deliver.js'
import {
  dueAlerts,
  maxIpsAlert,
  statusChangeAlert,
  type Alert,
  type UserAlertState,
} from '../../src/lib/domain/due-alerts.js'
import {enqueueAlerts} from '../../src/lib/alerts/outbox.js'
import type {Context} from '../../src/lib/context.js'
import {openDatabase, type Db} from '../../src/lib/db/open-database.js'
import {SbqError} from '../../src/lib/errors.js'
import {setSetting} from '../../src/lib/settings/settings.js'
import {rejectsWith} from '../support/assertions.js'
import {contextAt, memoryDb} from '../support/memory-db.js'

const GiB = 1024 ** 3
const day = 24 * 60 * 60 * 1000
const may10 = contextAt('2024-05-10T12:00:00Z')
const mayStart = Date.parse('2024-05-01T00:00:00Z')
const juneStart = Date.parse('2024-06-01T00:00:00Z')
const rules = {thresholds: [80, 100], expiryDays: 3}
const fast = {tries: 3, backoffMs: 5, timeoutMs: 2000}

function user(periodUsed: number, allowance = 100 * GiB, overrides: Partial<UserAlertState> = {}): UserAlertState {
  return {name: 'alice', periodStart: mayStart, periodUsed, allowance, expiresAt: null, ...overrides}
}

/** The alert tables, whether or not migrations/index.ts lists 0003 yet. */
async function withAlertTables(db: Db): Promise<Db> {
  const tables = await db.introspection.getTables()
  if (!tables.some((table) => table.name === 'alert_channels')) await up(db as unknown as Kysely<unknown>)
  return db
}

interface Received {
  url: string
  headers: IncomingHttpHeaders
  body: string
}

type Answer = {status: number; body?: string} | 'hang'

/** A loopback HTTP endpoint that records every request and answers the nth one (1-based) as told. */
async function receiver(answer: (n: number) => Answer) {
  const requests: Received[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      requests.push({url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8')})
      const reply = answer(requests.length)
      if (reply === 'hang') return
      response.writeHead(reply.status, {'content-type': 'application/json'}).end(reply.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

// Runs in worker threads, each with its own connection, like separate cron runs: better-sqlite3 blocks its thread
// while it waits for a lock, so two connections in one thread cannot overlap for real.
const overlappingRun = `
const {workerData, parentPort} = require('node:worker_threads')
;(async () => {
  const [{openDatabase}, {enqueueAlerts}] = await Promise.all([import(workerData.openDatabaseUrl), import(workerData.outboxUrl)])
  const db = await openDatabase(workerData.path)
  const gate = new Int32Array(workerData.gate)
  Atomics.add(gate, 0, 1)
  Atomics.wait(gate, 1, 0, 10000)
  try {
    parentPort.postMessage({queued: await enqueueAlerts(db, workerData.alerts, workerData.context)})
  } finally {
    await db.destroy()
  }
})().catch((error) => parentPort.postMessage({error: String(error)}))
`

/** Starts `runs` enqueues of the same alerts at the same moment in separate threads; resolves to each one's count. */
async function enqueueOverlapping(path: string, alerts: Alert[], context: Context, runs: number): Promise<number[]> {
  const gate = new SharedArrayBuffer(8)
  const counters = new Int32Array(gate)
  const workerData = {
    path,
    alerts,
    context,
    gate,
    openDatabaseUrl: new URL('../../src/lib/db/open-database.js', import.meta.url).href,
    outboxUrl: new URL('../../src/lib/alerts/outbox.js', import.meta.url).href,
  }
  const workers = Array.from({length: runs}, () => new Worker(overlappingRun, {eval: true, workerData}))
  const results = workers.map(
    (worker) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('an overlapping run took over 20 s')), 20_000)
        worker.once('message', (message: {queued?: number; error?: string}) => {
          clearTimeout(timer)
          if (message.error !== undefined) reject(new Error(message.error))
          else resolve(message.queued!)
        })
        worker.once('error', reject)
      }),
  )
  const deadline = Date.now() + 20_000
  while (Atomics.load(counters, 0) < runs && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 5))
  Atomics.store(counters, 1, 1)
  Atomics.notify(counters, 1)
  try {
    return await Promise.all(results)
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()))
  }
}

describe('due alerts (pure rules)', () => {
  it('fire at 80% and 100% of the allowance, and not below', () => {
    assert.deepEqual(dueAlerts([user(80 * GiB - 1)], rules, may10.now), [])
    assert.deepEqual(
      dueAlerts([user(80 * GiB)], rules, may10.now).map((alert) => alert.threshold),
      [80],
    )
    const full = dueAlerts([user(100 * GiB + 1)], rules, may10.now)
    assert.deepEqual(
      full.map((alert) => [alert.kind, alert.threshold]),
      [
        ['threshold', 80],
        ['threshold', 100],
      ],
    )
    assert.deepEqual(full[0], {
      kind: 'threshold',
      user: 'alice',
      threshold: 80,
      periodStart: mayStart,
      periodUsed: 100 * GiB + 1,
      allowance: 100 * GiB,
      expiresAt: null,
      at: may10.now,
    })
  })

  it('never fire threshold alerts for unlimited users', () => {
    assert.deepEqual(dueAlerts([user(5000 * GiB, 0)], rules, may10.now), [])
  })

  it('compare exactly where used * 100 would lose precision as a double', () => {
    const allowance = 2 ** 52 + 1
    assert.equal(dueAlerts([user(allowance - 1, allowance)], {thresholds: [100], expiryDays: 0}, may10.now).length, 0)
    assert.equal(dueAlerts([user(allowance, allowance)], {thresholds: [100], expiryDays: 0}, may10.now).length, 1)
  })

  it('warn of expiry inside the window only, and never once expired or when switched off', () => {
    const at = (expiresAt: number, expiryDays = 3) =>
      dueAlerts([user(0, 0, {expiresAt})], {thresholds: [80], expiryDays}, may10.now)
    assert.deepEqual(
      at(may10.now + 3 * day).map((alert) => [alert.kind, alert.threshold]),
      [['expiry-soon', 3]],
    )
    assert.deepEqual(at(may10.now + 3 * day + 1), [])
    assert.deepEqual(at(may10.now), [])
    assert.deepEqual(at(may10.now - day), [])
    assert.deepEqual(at(may10.now + day, 0), [])
  })

  it('read thresholds and the expiry window from the settings', async () => {
    const db = await memoryDb()
    assert.deepEqual(await readAlertRules(db), {thresholds: [80, 100], expiryDays: 3})
    await setSetting(db, 'alert-thresholds', '100,50,90')
    await setSetting(db, 'alert-expiry-days', '7')
    assert.deepEqual(await readAlertRules(db), {thresholds: [50, 90, 100], expiryDays: 7})
    await db.destroy()
  })
})

describe('outbox: each alert once per user, threshold and period', () => {
  let dir: string
  let first: Db
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sbq-alerts-'))
    first = await withAlertTables(await openDatabase(join(dir, 'sbq.db')))
    await addChannel(first, {type: 'webhook', url: 'http://127.0.0.1:9/a'}, may10)
    await addChannel(first, {type: 'webhook', url: 'http://127.0.0.1:9/b'}, may10)
  })
  after(async () => {
    await first.destroy()
    rmSync(dir, {recursive: true, force: true})
  })

  const outboxRows = async () => first.selectFrom('alert_outbox').selectAll().execute()

  it('queues a new alert for every channel, and the same alert again is dropped', async () => {
    assert.equal(await enqueueAlerts(first, dueAlerts([user(85 * GiB)], rules, may10.now), may10), 1)
    assert.equal((await outboxRows()).length, 2)
    assert.equal(await enqueueAlerts(first, dueAlerts([user(90 * GiB)], rules, may10.now + 300_000), may10), 0)
    assert.equal((await outboxRows()).length, 2)
  })

  it('drops the duplicate when two runs raise the same alerts at once', async () => {
    const alerts = dueAlerts([user(100 * GiB)], rules, may10.now)
    const counts = await enqueueOverlapping(join(dir, 'sbq.db'), alerts, may10, 4)
    assert.equal(
      counts.reduce((sum, count) => sum + count, 0),
      1,
      `queued ${counts.join(' + ')}`,
    )
    const stored = await first
      .selectFrom('alerts')
      .select(['kind', 'threshold'])
      .where('user_name', '=', 'alice')
      .orderBy('id')
      .execute()
    assert.deepEqual(
      stored.map((row) => row.threshold),
      [80, 100],
    )
    assert.equal((await outboxRows()).length, 4)
  })

  it('a new period arms the thresholds again', async () => {
    const june = contextAt('2024-06-20T00:00:00Z')
    const alerts = dueAlerts([user(81 * GiB, 100 * GiB, {periodStart: juneStart})], rules, june.now)
    assert.equal(await enqueueAlerts(first, alerts, june), 1)
    assert.equal(await enqueueAlerts(first, alerts, june), 0)
  })

  it('an extended expiry arms the expiry warning again; status changes fire once per period', async () => {
    const expiring = user(0, 0, {name: 'bob', expiresAt: may10.now + day})
    assert.equal(await enqueueAlerts(first, dueAlerts([expiring], rules, may10.now), may10), 1)
    assert.equal(await enqueueAlerts(first, dueAlerts([expiring], rules, may10.now + 1000), may10), 0)
    const extended = {...expiring, expiresAt: may10.now + 2 * day}
    assert.equal(await enqueueAlerts(first, dueAlerts([extended], rules, may10.now + day + 1), may10), 1)
    const limited = statusChangeAlert('limited', user(100 * GiB), may10.now)
    assert.equal(await enqueueAlerts(first, [limited, {...limited, at: limited.at + 1}], may10), 1)
    assert.equal(await enqueueAlerts(first, [maxIpsAlert(user(0), 3, 5, may10.now)], may10), 1)
    const text = await first.selectFrom('alerts').select('text').where('kind', '=', 'max-ips').executeTakeFirstOrThrow()
    assert.equal(text.text, 'sbq: alice was seen on 5 IPs at once; the limit is 3')
  })
})

describe('channels', () => {
  let db: Db
  before(async () => {
    db = await withAlertTables(await memoryDb())
  })
  after(async () => db.destroy())

  it('keep secrets in the database and show at most their last 4 characters', async () => {
    const hook = await addChannel(
      db,
      {type: 'webhook', url: 'https://example.com/hook', secret: 'a-long-signing-secret-1234'},
      may10,
    )
    assert.equal(hook.secret, '***1234')
    await addChannel(db, {type: 'webhook', url: 'https://example.com/short', secret: 'short'}, may10)
    await addChannel(
      db,
      {type: 'telegram', token: '123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789', chat: '-1001234'},
      may10,
    )
    const listed = await listChannels(db)
    assert.deepEqual(
      listed.map((channel) => [channel.type, channel.target, channel.secret]),
      [
        ['webhook', 'https://example.com/hook', '***1234'],
        ['webhook', 'https://example.com/short', '***'],
        ['telegram', '-1001234', '***6789'],
      ],
    )
    assert.doesNotMatch(JSON.stringify(listed), /signing-secret|ABCdef|"secret":"short"/)
    const stored = await db
      .selectFrom('alert_channels')
      .select('secret')
      .where('id', '=', hook.id)
      .executeTakeFirstOrThrow()
    assert.equal(stored.secret, 'a-long-signing-secret-1234')
  })

  it('refuse bad input with exit 2, a duplicate with exit 3, and an unknown id with exit 3', async () => {
    await assert.rejects(
      addChannel(db, {type: 'webhook', url: 'ftp://example.com'}, may10),
      rejectsWith('INVALID_WEBHOOK_URL', 2),
    )
    await assert.rejects(
      addChannel(db, {type: 'webhook', url: 'not a url'}, may10),
      rejectsWith('INVALID_WEBHOOK_URL', 2),
    )
    await assert.rejects(addChannel(db, {type: 'webhook'}, may10), rejectsWith('INVALID_ALERT_CHANNEL', 2))
    await assert.rejects(addChannel(db, {type: 'pager'}, may10), rejectsWith('INVALID_ALERT_CHANNEL', 2))
    await assert.rejects(addChannel(db, {type: 'telegram', chat: '1'}, may10), rejectsWith('INVALID_ALERT_CHANNEL', 2))
    await assert.rejects(
      addChannel(db, {type: 'telegram', token: 'nope/../x', chat: '1'}, may10),
      rejectsWith('INVALID_TELEGRAM_TOKEN', 2),
    )
    await assert.rejects(
      addChannel(db, {type: 'webhook', url: 'https://example.com/hook'}, may10),
      rejectsWith('ALERT_CHANNEL_EXISTS', 3),
    )
    await assert.rejects(removeChannel(db, 'x1'), rejectsWith('INVALID_ALERT_CHANNEL', 2))
    await assert.rejects(removeChannel(db, '99'), rejectsWith('ALERT_CHANNEL_NOT_FOUND', 3))
  })

  it('removing a channel drops what it still owes', async () => {
    await enqueueAlerts(db, [statusChangeAlert('expired', user(0), may10.now)], may10)
    assert.deepEqual(
      (await listChannels(db)).map((channel) => channel.pending),
      [1, 1, 1],
    )
    await removeChannel(db, '1')
    assert.equal((await db.selectFrom('alert_outbox').selectAll().execute()).length, 2)
  })
})

describe('delivery', () => {
  let db: Db
  const closers: Array<() => Promise<void>> = []
  before(async () => {
    db = await withAlertTables(await memoryDb())
  })
  after(async () => {
    await Promise.all(closers.map((close) => close()))
    await db.destroy()
  })

  async function freshReceiver(answer: (n: number) => Answer) {
    const endpoint = await receiver(answer)
    closers.push(endpoint.close)
    return endpoint
  }

  async function onlyChannel(input: Parameters<typeof addChannel>[1]) {
    await db.deleteFrom('alert_channels').execute()
    await db.deleteFrom('alerts').execute()
    return addChannel(db, input, may10)
  }

  it('signs the exact body with HMAC-SHA256 and sends the documented JSON', async () => {
    const endpoint = await freshReceiver(() => ({status: 204}))
    await onlyChannel({type: 'webhook', url: `${endpoint.url}/hook`, secret: 'hook-secret'})
    await enqueueAlerts(
      db,
      dueAlerts([user(80 * GiB, 100 * GiB, {expiresAt: Date.parse('2024-07-01T00:00:00Z')})], rules, may10.now),
      may10,
    )
    assert.deepEqual(await deliverPending(db, may10, fast), {sent: 1, failed: [], gaveUp: 0})
    assert.equal(endpoint.requests.length, 1)
    const [request] = endpoint.requests
    assert.equal(request!.url, '/hook')
    assert.equal(request!.headers['content-type'], 'application/json')
    const expected = `sha256=${createHmac('sha256', 'hook-secret').update(request!.body).digest('hex')}`
    assert.equal(request!.headers['x-sbq-signature'], expected)
    const body = JSON.parse(request!.body)
    assert.deepEqual(Object.keys(body), [
      'kind',
      'user',
      'node',
      'threshold',
      'periodStart',
      'periodUsed',
      'allowance',
      'expiresAt',
      'at',
      'text',
    ])
    assert.deepEqual(body, {
      kind: 'threshold',
      user: 'alice',
      node: null,
      threshold: 80,
      periodStart: '2024-05-01T00:00:00.000Z',
      periodUsed: 80 * GiB,
      allowance: 100 * GiB,
      expiresAt: '2024-07-01T00:00:00.000Z',
      at: '2024-05-10T12:00:00.000Z',
      text: "sbq: alice has reached 80% of this period's allowance (80.0 GiB of 100 GiB used since 2024-05-01 00:00)",
    })
    assert.deepEqual(
      await deliverPending(db, may10, fast),
      {sent: 0, failed: [], gaveUp: 0},
      'a delivered alert is not sent again',
    )
  })

  it('sends no signature header without a secret', async () => {
    const endpoint = await freshReceiver(() => ({status: 200}))
    await onlyChannel({type: 'webhook', url: endpoint.url})
    await enqueueAlerts(db, [statusChangeAlert('re-enabled', user(0), may10.now)], may10)
    assert.equal((await deliverPending(db, may10, fast)).sent, 1)
    assert.equal(endpoint.requests[0]!.headers['x-sbq-signature'], undefined)
  })

  it('retries a transient failure within the run and then succeeds', async () => {
    const endpoint = await freshReceiver((n) => (n === 1 ? {status: 503, body: 'busy'} : {status: 200}))
    await onlyChannel({type: 'webhook', url: endpoint.url, secret: 's'})
    await enqueueAlerts(db, [statusChangeAlert('limited', user(100 * GiB), may10.now)], may10)
    assert.deepEqual(await deliverPending(db, may10, fast), {sent: 1, failed: [], gaveUp: 0})
    assert.equal(endpoint.requests.length, 2)
    assert.equal(endpoint.requests[0]!.body, endpoint.requests[1]!.body, 'a retry sends the same bytes')
    const row = await db.selectFrom('alert_outbox').selectAll().executeTakeFirstOrThrow()
    assert.deepEqual([row.attempts, row.delivered_at, row.last_error, row.claimed_until], [1, may10.now, null, null])
  })

  it('keeps failed alerts for the next run, gives up after the last run, and never throws', async () => {
    const endpoint = await freshReceiver(() => ({status: 500, body: 'down\nfor maintenance'}))
    const channel = await onlyChannel({type: 'webhook', url: endpoint.url})
    await enqueueAlerts(db, dueAlerts([user(100 * GiB)], rules, may10.now), may10)
    const options = {...fast, tries: 2, maxRuns: 3}
    const first = await deliverPending(db, may10, options)
    assert.deepEqual(first, {
      sent: 0,
      failed: [
        {
          channel: channel.id,
          label: `${channel.id} (webhook ${endpoint.url}/)`,
          error: 'HTTP 500: down for maintenance',
          alerts: 2,
        },
      ],
      gaveUp: 0,
    })
    assert.equal(
      endpoint.requests.length,
      2,
      'a failing channel is tried once per run (with its retries), not once per alert',
    )
    assert.deepEqual(
      (await listChannels(db)).map((view) => [view.pending, view.failed, view.lastError]),
      [[2, 0, 'HTTP 500: down for maintenance']],
    )
    assert.equal((await deliverPending(db, may10, options)).gaveUp, 0)
    assert.equal((await deliverPending(db, may10, options)).gaveUp, 2)
    const requestsSoFar = endpoint.requests.length
    assert.deepEqual(await deliverPending(db, may10, options), {sent: 0, failed: [], gaveUp: 0})
    assert.equal(endpoint.requests.length, requestsSoFar, 'given-up alerts are not sent again')
    assert.deepEqual(
      (await listChannels(db)).map((view) => [view.pending, view.failed]),
      [[0, 2]],
    )
  })

  it('reports an unreachable endpoint and a silent one within the timeout', async () => {
    const closed = await receiver(() => ({status: 200}))
    await closed.close()
    await onlyChannel({type: 'webhook', url: closed.url})
    await enqueueAlerts(db, [statusChangeAlert('expired', user(0), may10.now)], may10)
    const refused = await deliverPending(db, may10, {...fast, tries: 1})
    assert.match(refused.failed[0]!.error, /ECONNREFUSED/)

    const silent = await freshReceiver(() => 'hang')
    await onlyChannel({type: 'webhook', url: silent.url})
    await enqueueAlerts(db, [statusChangeAlert('expired', user(0), may10.now)], may10)
    const started = Date.now()
    const timedOut = await deliverPending(db, may10, {...fast, tries: 1, timeoutMs: 200})
    assert.equal(timedOut.failed[0]!.error, 'no answer within 0.2 s')
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`)
  })

  it('leaves a delivery alone while another run holds it', async () => {
    const endpoint = await freshReceiver(() => ({status: 200}))
    await onlyChannel({type: 'webhook', url: endpoint.url})
    await enqueueAlerts(db, [statusChangeAlert('expired', user(0), may10.now)], may10)
    await db
      .updateTable('alert_outbox')
      .set({claimed_until: may10.now + 60_000})
      .execute()
    assert.deepEqual(await deliverPending(db, may10, fast), {sent: 0, failed: [], gaveUp: 0})
    assert.equal(endpoint.requests.length, 0)
    assert.equal(
      (await deliverPending(db, contextAt('2024-05-10T12:01:00Z'), fast)).sent,
      1,
      'an abandoned claim expires',
    )
  })

  it('posts to Telegram at the overridable API base, keeps the token out of errors, and does not retry a 400', async () => {
    const token = '123456:SECRETtokenABCDEFGHIJKLMNOPQRSTUVWX'
    const api = await freshReceiver((n) =>
      n === 1
        ? {status: 200, body: '{"ok":true,"result":{}}'}
        : {status: 400, body: `{"ok":false,"description":"Bad Request: chat not found for ${token}"}`},
    )
    await onlyChannel({type: 'telegram', token, chat: '987654321'})
    await enqueueAlerts(db, [statusChangeAlert('re-enabled', user(0), may10.now)], may10)
    assert.equal((await deliverPending(db, may10, {...fast, telegramApi: `${api.url}/`})).sent, 1)
    assert.equal(api.requests[0]!.url, `/bot${token}/sendMessage`)
    assert.deepEqual(JSON.parse(api.requests[0]!.body), {
      chat_id: '987654321',
      text: 'sbq: alice is active again (0 B of 100 GiB used since 2024-05-01 00:00)',
    })

    await enqueueAlerts(
      db,
      [statusChangeAlert('limited', user(0), may10.now), statusChangeAlert('expired', user(0), may10.now)],
      may10,
    )
    const failed = await deliverPending(db, may10, {...fast, telegramApi: api.url})
    assert.deepEqual(
      failed.failed.map((failure) => [failure.error, failure.alerts]),
      [['HTTP 400: Bad Request: chat not found for ***', 2]],
    )
    assert.equal(api.requests.length, 3, 'a 400 is neither retried nor taken as the channel being down')
  })

  it('alert test sends through every channel and fails with exit 4 naming the one that did not take it', async () => {
    const good = await freshReceiver(() => ({status: 200}))
    const bad = await freshReceiver(() => ({status: 502}))
    await onlyChannel({type: 'webhook', url: good.url})
    const badChannel = await addChannel(db, {type: 'webhook', url: bad.url}, may10)
    await assert.rejects(sendTestAlerts(db, undefined, may10, fast), (error: unknown) => {
      assert.ok(error instanceof SbqError)
      assert.equal(error.exit, 4)
      assert.equal(error.message, `alert channel ${badChannel.id} (webhook ${bad.url}/) failed: HTTP 502`)
      return true
    })
    assert.equal(JSON.parse(good.requests[0]!.body).kind, 'test')
    assert.equal(bad.requests.length, 3)
    const onlyGood = await sendTestAlerts(db, String(badChannel.id - 1), may10, fast)
    assert.deepEqual(
      onlyGood.map((delivery) => delivery.sent),
      [true],
    )
  })
})
