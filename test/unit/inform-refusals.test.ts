import assert from 'node:assert/strict'
import {after, beforeEach, describe, it} from 'node:test'

import {insertNode, recordRefusal} from '../../src/lib/db/nodes-repository.js'
import type {Db} from '../../src/lib/db/open-database.js'
import type {NodeRow} from '../../src/lib/db/schema.js'
import {InformParser} from '../../src/lib/inform/inform-parser.js'
import {InformPayloadError, parseInformPayload} from '../../src/lib/inform/inform-payload.js'
import {hashInformToken, newInformToken} from '../../src/lib/inform/inform-token.js'
import {recordInform} from '../../src/lib/accounting/record-inform.js'
import {toNodeView} from '../../src/lib/nodes/node-service.js'
import {renderNode} from '../../src/lib/output/node-tables.js'
import {renderMetrics} from '../../src/lib/serve/metrics-text.js'
import {collectMetrics} from '../../src/lib/serve/metrics.js'
import {createSbqServer} from '../../src/lib/serve/sbq-server.js'
import {getSettings, setSetting} from '../../src/lib/settings/settings.js'
import {addUser, listUsers} from '../../src/lib/users/user-service.js'
import {loadDashboard} from '../../src/lib/web/dashboard-data.js'
import {translator} from '../../src/lib/web/i18n/messages.js'
import {dashboardPage} from '../../src/lib/web/pages/dashboard-page.js'
import {contextAt, memoryDb} from '../support/memory-db.js'
import {informTrafficBody, postInform, type InformClient} from '../support/stub-3x-ui-inform.js'

const may10 = contextAt('2024-05-10T12:00:00Z')

describe('refused 3x-ui reports are kept on the node', () => {
  let db: Db
  let de1: NodeRow

  beforeEach(async () => {
    db = await memoryDb()
    await addUser(db, {name: 'alice', reset: {every: 'month', day: 1}}, may10)
    const base = {
      config_path: null,
      inbounds: null,
      apply_command: null,
      created_at: may10.now,
      last_pull_at: null,
      last_error: null,
    }
    de1 = await insertNode(db, {
      ...base,
      name: 'de1',
      type: '3x-ui',
      api: '',
      token_hash: hashInformToken(newInformToken()),
    })
  })

  const node = async () => db.selectFrom('nodes').selectAll().where('id', '=', de1.id).executeTakeFirstOrThrow()

  it('counts refusals, keeps the last one through later good reports, and shows it in node show, /metrics and the dashboard', async () => {
    await recordRefusal(db, de1.id, {
      at: may10.now,
      status: 413,
      reason: 'over the limit of 1024 bytes',
      bytes: 5000,
      reports: 1,
      names: 0,
    })
    await recordRefusal(db, de1.id, {
      at: may10.now + 60_000,
      status: 400,
      reason: 'body is not JSON',
      bytes: 17,
      reports: 1,
      names: 0,
    })
    await recordInform(db, de1, parseInformPayload(informTrafficBody([{email: 'alice', up: 1, down: 2}])), null, {
      ...may10,
      now: may10.now + 120_000,
    })
    const view = toNodeView(await node())
    assert.deepEqual(
      [view.refusedReports, view.refusedNames, view.lastRefusal],
      [2, 0, {at: '2024-05-10T12:01:00.000Z', status: 400, reason: 'body is not JSON', bytes: 17}],
    )
    assert.equal(
      view.lastPullAt,
      '2024-05-10T12:02:00.000Z',
      'the good report is recorded; the refusal stays with its time',
    )
    const shown = renderNode(view, 'UTC')
    assert.match(shown, /^refused\s+2 report\(s\), 0 new unmanaged name\(s\)$/m)
    assert.match(shown, /^last refused\s+report refused 2024-05-10 12:01 \(status 400, 17 bytes\): body is not JSON$/m)
    const metrics = renderMetrics(await collectMetrics(db, may10))
    assert.match(metrics, /^sbq_node_refused_reports_total\{node="de1"\} 2$/m)
    assert.match(metrics, /^sbq_node_refused_names_total\{node="de1"\} 0$/m)
    assert.match(
      metrics,
      new RegExp(`^sbq_node_last_refusal_timestamp_seconds\\{node="de1"\\} ${(may10.now + 60_000) / 1000}$`, 'm'),
    )
    const view2 = await loadDashboard(
      db,
      {search: '', status: null, sort: 'name', descending: false, page: 1},
      {...may10, actor: 'web'},
    )
    const frame = {
      t: translator('en'),
      language: 'en' as const,
      here: '/',
      assets: {css: '/c.css', js: '/d.js'},
      csrf: 't',
      flash: null,
    }
    assert.match(
      dashboardPage(frame, view2).text,
      /2 refused, 0 names turned away; last 2024-05-10 12:01 \(status 400\): body is not JSON/,
    )
  })

  it('bounds the new unmanaged names one node adds a day; managed users and names already added today are always recorded', async () => {
    await setSetting(db, 'unmanaged-names-limit', '2')
    const report = (clients: InformClient[], context = may10) =>
      recordInform(db, de1, parseInformPayload(informTrafficBody(clients)), null, context)
    const first = await report([
      {email: 'alice', up: 10, down: 20},
      {email: 'g1', up: 1, down: 1},
      {email: 'g2', up: 2, down: 2},
      {email: 'g3', up: 3, down: 3},
      {email: 'idle', up: 0, down: 0},
    ])
    assert.deepEqual(
      first.duplicate
        ? null
        : [first.record.users, first.record.unmanaged, first.record.refusedNames, first.record.up, first.record.down],
      [1, 2, 1, 13, 23],
    )
    const second = await report([
      {email: 'g1', up: 5, down: 5},
      {email: 'g4', up: 4, down: 4},
      {email: 'alice', up: 1, down: 1},
    ])
    assert.deepEqual(second.duplicate ? null : [second.record.unmanaged, second.record.refusedNames], [1, 1])
    const nextDay = contextAt('2024-05-11T00:00:01Z')
    await report([{email: 'g3', up: 3, down: 3}], nextDay)
    const rows = await db
      .selectFrom('unmanaged_usage_daily')
      .select(['day', 'name', 'up'])
      .orderBy('day')
      .orderBy('name')
      .execute()
    assert.deepEqual(rows, [
      {day: '2024-05-10', name: 'g1', up: 6},
      {day: '2024-05-10', name: 'g2', up: 2},
      {day: '2024-05-11', name: 'g3', up: 3},
    ])
    const alice = (await listUsers(db, {}, nextDay)).find((user) => user.name === 'alice')!
    assert.deepEqual([alice.periodUp, alice.periodDown], [11, 21])
    const stored = await node()
    assert.deepEqual([stored.refused_names, stored.refused_reports, stored.counted_up], [2, 0, 11 + 1 + 2 + 5 + 3])
    assert.match(
      stored.last_refusal_reason!,
      /^1 new unmanaged name\(s\) not recorded: the node already added 2 today \(sbq config set unmanaged-names-limit\)$/,
    )
  })
})

describe("sbq serve's own failure", () => {
  it('answers 500, rolls the report back, logs it and counts it on the node', async () => {
    const db = await memoryDb()
    await addUser(db, {name: 'alice', reset: {every: 'month', day: 1}}, may10)
    const token = newInformToken()
    const base = {
      config_path: null,
      inbounds: null,
      apply_command: null,
      created_at: may10.now,
      last_pull_at: null,
      last_error: null,
    }
    const de1 = await insertNode(db, {...base, name: 'de1', type: '3x-ui', api: '', token_hash: hashInformToken(token)})
    // A write that fails inside the report's transaction, after alice's bytes were added.
    await db.schema.dropTable('inbound_usage_daily').execute()
    const lines: string[] = []
    const server = createSbqServer({
      db,
      context: async () => may10,
      bodyLimit: 1024 * 1024,
      metricsTokenHash: null,
      log: (line) => lines.push(line),
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as {port: number}).port}/inform/de1/${token}`
      const body = informTrafficBody([{email: 'alice', up: 5, down: 5}], [{tag: 'inbound-443', up: 5, down: 5}])
      assert.equal((await postInform(url, body)).status, 500)
      for (let wait = 0; wait < 100 && lines.length === 0; wait++)
        await new Promise((resolve) => setTimeout(resolve, 10))
      assert.match(
        lines.join('\n'),
        new RegExp(
          `^inform refused: node "de1", status 500, ${body.length} bytes: sbq failed to record it: .*inbound_usage_daily`,
          'm',
        ),
      )
      const stored = await db.selectFrom('nodes').selectAll().where('id', '=', de1.id).executeTakeFirstOrThrow()
      assert.deepEqual([stored.refused_reports, stored.last_refusal_status, stored.last_pull_at], [1, 500, null])
      assert.equal(
        (await listUsers(db, {}, may10)).find((user) => user.name === 'alice')!.periodUsed,
        0,
        'nothing of the report is kept',
      )
    } finally {
      await new Promise((resolve) => server.close(resolve))
      await db.destroy()
    }
  })
})

describe('inform settings', () => {
  it('takes a 150k-client report by default (3x-ui sends every client every 5 s) and bounds unmanaged names', async () => {
    const db = await memoryDb()
    const settings = new Map((await getSettings(db)).map((setting) => [setting.key, Number(setting.value)]))
    const row = informTrafficBody([
      {email: 'customer-000001@example.com', up: 1_073_741_824, down: 10_737_418_240},
    ]).length
    assert.ok(
      settings.get('inform-body-limit')! >= 150_000 * row,
      `limit ${settings.get('inform-body-limit')} for ${row} bytes a client`,
    )
    assert.equal(settings.get('unmanaged-names-limit'), 10_000)
    await assert.rejects(
      setSetting(db, 'unmanaged-names-limit', 'lots'),
      /unmanaged-names-limit "lots" is not a whole number/,
    )
    await db.destroy()
  })
})

describe('InformParser (big reports off the main thread)', () => {
  const parser = new InformParser()
  after(() => parser.close())
  const clients = Array.from({length: 20_000}, (_, index) => ({email: `c${index}`, up: index, down: index % 7}))
  const body = informTrafficBody(clients, [
    {tag: 'inbound-443', up: 5, down: 6},
    {tag: 'direct', up: 1, down: 1, outbound: true},
  ])

  it('reads a big report in the worker as parseInformPayload does, leaving out rows without traffic', async () => {
    assert.ok(body.length > 1024 * 1024)
    const expected = parseInformPayload(body)
    const parsed = await parser.parse(Buffer.from(body))
    assert.deepEqual(parsed.clients, new Map([...expected.clients].filter(([, {up, down}]) => up > 0 || down > 0)))
    assert.deepEqual(parsed.inbounds, new Map([['inbound-443', {up: 5, down: 6}]]))
  })

  it('refuses a big body with the same reason, and the worker keeps serving', async () => {
    const bad = body.replace(
      '"email":"c19999","uuid":"","subId":"","up":19999',
      '"email":"c19999","uuid":"","subId":"","up":-1',
    )
    await assert.rejects(
      parser.parse(Buffer.from(bad)),
      (error: unknown) =>
        error instanceof InformPayloadError &&
        error.message === 'clientTraffics[19999].up is not a whole number of bytes from 0 to 2^53-1',
    )
    await assert.rejects(
      parser.parse(Buffer.from(`${body.slice(0, -1)}`)),
      (error: unknown) => error instanceof InformPayloadError && error.message === 'body is not JSON',
    )
    assert.equal(
      (await parser.parse(Buffer.from(body))).clients.size,
      clients.filter((client) => client.up + client.down > 0).length,
    )
  })

  it('leaves the event loop free while it parses', async () => {
    const big = informTrafficBody(
      Array.from({length: 150_000}, (_, index) => ({email: `customer-${index}@example.com`, up: index, down: index})),
    )
    let ticks = 0
    let longest = 0
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      longest = Math.max(longest, now - last)
      last = now
      ticks++
    }, 5)
    const started = performance.now()
    await parser.parse(Buffer.from(big))
    const took = performance.now() - started
    clearInterval(timer)
    assert.ok(ticks >= 3, `the loop ticked ${ticks} times in ${took.toFixed(0)} ms`)
    // Generous for a busy 2-core machine: parsing 44 MB takes JSON.parse itself 0.5 s or more.
    assert.ok(longest < took * 0.75, `the longest stall was ${longest.toFixed(0)} ms of ${took.toFixed(0)} ms`)
  })
})
