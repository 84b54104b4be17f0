import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {beforeEach, describe, it} from 'node:test'

import {recordPull} from '../../src/lib/accounting/ledger.js'
import {insertNode} from '../../src/lib/db/nodes-repository.js'
import type {Db} from '../../src/lib/db/open-database.js'
import type {NodeRow} from '../../src/lib/db/schema.js'
import {InformPayloadError, informBody, parseInformPayload} from '../../src/lib/inform/inform-payload.js'
import {hashInformToken, informTokenMatches, newInformToken} from '../../src/lib/inform/inform-token.js'
import {informUri, isPrivateUrl} from '../../src/lib/inform/inform-uri.js'
import {queuePush} from '../../src/lib/accounting/push-outbox.js'
import {authenticateInform, recordInform} from '../../src/lib/accounting/record-inform.js'
import {addUser, listUsers} from '../../src/lib/users/user-service.js'
import {fixturesDir} from '../support/paths.js'
import {contextAt, memoryDb} from '../support/memory-db.js'

const fixture = (name: string) => readFileSync(join(fixturesDir, '3x-ui', name), 'utf8')

describe('parseInformPayload', () => {
  it('reads a 3x-ui report: emails with their deltas, inbound rows only, outbound and api rows kept apart', () => {
    const payload = parseInformPayload(fixture('inform-de1.json'))
    assert.deepEqual(
      [...payload.clients],
      [
        ['alice', {up: 1048576, down: 8388608}],
        ['bob', {up: 0, down: 0}],
        ['3x-guest-7f2a', {up: 4096, down: 65536}],
      ],
    )
    assert.deepEqual(
      [...payload.inbounds],
      [
        ['inbound-443', {up: 1052672, down: 8454144}],
        ['api', {up: 0, down: 0}],
      ],
    )
  })

  it('takes null lists (Go marshals an empty slice so) as empty', () => {
    assert.equal(parseInformPayload(fixture('inform-idle.json')).clients.size, 0)
    assert.equal(parseInformPayload('{}').clients.size, 0)
  })

  it('adds up an email listed twice', () => {
    const payload = parseInformPayload(
      '{"clientTraffics":[{"email":"a","up":1,"down":2},{"email":"a","up":10,"down":20}]}',
    )
    assert.deepEqual(payload.clients.get('a'), {up: 11, down: 22})
  })

  for (const [body, reason] of [
    ['{"clientTraffics":[', /not JSON/],
    ['[]', /not a JSON object/],
    ['{"clientTraffics":{}}', /clientTraffics is not a list/],
    ['{"clientTraffics":[{"email":"a","up":-1,"down":0}]}', /clientTraffics\[0\]\.up is not a whole number/],
    ['{"clientTraffics":[{"email":"a","up":1.5,"down":0}]}', /up is not a whole number/],
    ['{"clientTraffics":[{"email":"a","up":"1","down":0}]}', /up is not a whole number/],
    ['{"clientTraffics":[{"email":"a","up":9007199254740992,"down":0}]}', /up is not a whole number/],
    ['{"clientTraffics":[{"email":"a","up":0}]}', /down is not a whole number/],
    ['{"clientTraffics":[{"email":"","up":0,"down":0}]}', /email is not a name/],
    [
      '{"clientTraffics":[{"email":"a","up":9007199254740991,"down":0},{"email":"a","up":1,"down":0}]}',
      /add up past 2\^53-1/,
    ],
    ['{"inboundTraffics":[{"IsInbound":true,"Tag":"x","Up":1,"Down":-5}]}', /inboundTraffics\[0\]\.Down/],
  ] as const) {
    it(`refuses ${body.slice(0, 60)}`, () => {
      assert.throws(
        () => parseInformPayload(body),
        (error: unknown) => error instanceof InformPayloadError && reason.test(error.message),
      )
    })
  }

  it('writes pushes in the shape it reads', () => {
    const deltas = new Map([['alice', {up: 5, down: 7}]])
    assert.deepEqual(parseInformPayload(informBody(deltas)).clients, deltas)
  })
})

describe('inform tokens and URIs', () => {
  it('matches only the token whose hash is stored, and nothing when no hash is', () => {
    const token = newInformToken()
    assert.match(token, /^[A-Za-z0-9_-]{43}$/)
    assert.equal(informTokenMatches(token, hashInformToken(token)), true)
    assert.equal(informTokenMatches(newInformToken(), hashInformToken(token)), false)
    assert.equal(informTokenMatches(token, null), false)
    assert.equal(informTokenMatches('', null), false)
  })

  it('builds the URI from the public base and tells private addresses apart', () => {
    assert.equal(informUri('https://sbq.example.com/', 'de1', 'T'), 'https://sbq.example.com/inform/de1/T')
    assert.equal(isPrivateUrl('http://127.0.0.1:8787'), true)
    assert.equal(isPrivateUrl('https://192.168.1.5'), true)
    assert.equal(isPrivateUrl('https://[::1]:8443'), true)
    assert.equal(isPrivateUrl('https://sbq.example.com'), false)
    assert.equal(isPrivateUrl('https://8.8.8.8'), false)
  })
})

describe('recordInform (the ledger shared with pulls)', () => {
  let db: Db
  let de1: NodeRow
  let hk1: NodeRow
  const may10 = contextAt('2024-05-10T12:00:00Z')
  const token = newInformToken()

  beforeEach(async () => {
    db = await memoryDb()
    await addUser(db, {name: 'alice', reset: {every: 'month', day: 1}}, may10)
    await addUser(db, {name: 'bob', reset: {every: 'month', day: 1}}, may10)
    const base = {
      config_path: null,
      inbounds: null,
      apply_command: null,
      created_at: may10.now,
      last_pull_at: null,
      last_error: null,
    }
    de1 = await insertNode(db, {...base, name: 'de1', type: '3x-ui', api: '', token_hash: hashInformToken(token)})
    hk1 = await insertNode(db, {...base, name: 'hk1', type: 'v2ray', api: '127.0.0.1:1'})
  })

  const usage = async (name: string, context = may10) =>
    (await listUsers(db, {}, context)).find((user) => user.name === name)!

  it('authenticates a node by name and token; any other pair is the same null', async () => {
    assert.equal((await authenticateInform(db, 'de1', token))?.name, 'de1')
    assert.equal(await authenticateInform(db, 'de1', newInformToken()), null)
    assert.equal(await authenticateInform(db, 'nope', token), null)
    assert.equal(await authenticateInform(db, 'hk1', token), null, 'a node without a token never matches')
  })

  it('adds deltas to users across nodes, keeps unknown emails as unmanaged, and inbounds per day', async () => {
    await recordInform(db, de1, parseInformPayload(fixture('inform-de1.json')), null, may10)
    await recordPull(
      db,
      hk1,
      {counters: [{name: 'user>>>alice>>>traffic>>>downlink', value: 0}], uptimeSeconds: null},
      may10.now,
      may10,
    )
    await recordPull(
      db,
      hk1,
      {counters: [{name: 'user>>>alice>>>traffic>>>downlink', value: 1000}], uptimeSeconds: null},
      may10.now + 1000,
      may10,
    )
    const alice = await usage('alice')
    assert.deepEqual([alice.periodUp, alice.periodDown], [1048576, 8388608 + 1000])
    assert.deepEqual((await usage('bob')).periodUsed, 0)
    assert.deepEqual(
      await db.selectFrom('usage_daily').select(['node_name', 'user_name', 'down']).orderBy('node_name').execute(),
      [
        {node_name: 'de1', user_name: 'alice', down: 8388608},
        {node_name: 'hk1', user_name: 'alice', down: 1000},
      ],
    )
    assert.deepEqual(
      await db.selectFrom('unmanaged_usage_daily').select(['node_name', 'name', 'up', 'down']).execute(),
      [{node_name: 'de1', name: '3x-guest-7f2a', up: 4096, down: 65536}],
    )
    assert.deepEqual(await db.selectFrom('inbound_usage_daily').selectAll().execute(), [
      {day: '2024-05-10', node_name: 'de1', tag: 'inbound-443', up: 1052672, down: 8454144},
    ])
    const node = await db
      .selectFrom('nodes')
      .select(['counted_up', 'counted_down', 'last_pull_at'])
      .where('name', '=', 'de1')
      .executeTakeFirstOrThrow()
    assert.deepEqual(node, {counted_up: 1048576 + 4096, counted_down: 8388608 + 65536, last_pull_at: may10.now})
  })

  it('rolls the period over exactly as a pull does', async () => {
    const body = parseInformPayload('{"clientTraffics":[{"email":"alice","up":0,"down":100}]}')
    await recordInform(db, de1, body, null, may10)
    const june = contextAt('2024-06-01T00:30:00Z')
    await recordInform(db, de1, body, null, june)
    const alice = await usage('alice', june)
    assert.deepEqual([alice.periodStart, alice.periodDown, alice.totalDown], ['2024-06-01T00:00:00.000Z', 100, 200])
  })

  it('counts a request id once: a re-sent push changes nothing', async () => {
    const body = parseInformPayload('{"clientTraffics":[{"email":"alice","up":1,"down":2}]}')
    assert.equal((await recordInform(db, de1, body, 'req-1', may10)).duplicate, false)
    assert.equal((await recordInform(db, de1, body, 'req-1', may10)).duplicate, true)
    assert.equal((await recordInform(db, de1, body, 'req-2', may10)).duplicate, false)
    assert.equal((await usage('alice')).periodUsed, 6)
  })

  it("queues a push in the pull's transaction only for a node with an inform URL, and only with traffic", async () => {
    await db
      .updateTable('nodes')
      .set({inform_url: 'https://central.example.com/inform/hk1/T'})
      .where('id', '=', hk1.id)
      .execute()
    const pushing = await db.selectFrom('nodes').selectAll().where('id', '=', hk1.id).executeTakeFirstOrThrow()
    await recordPull(
      db,
      pushing,
      {counters: [{name: 'user>>>alice>>>traffic>>>downlink', value: 10}], uptimeSeconds: null},
      may10.now,
      may10,
    )
    await recordPull(
      db,
      pushing,
      {counters: [{name: 'user>>>alice>>>traffic>>>downlink', value: 10}], uptimeSeconds: null},
      may10.now + 1,
      may10,
    )
    await recordPull(
      db,
      pushing,
      {counters: [{name: 'user>>>alice>>>traffic>>>downlink', value: 25}], uptimeSeconds: null},
      may10.now + 2,
      may10,
    )
    const queued = await db.selectFrom('inform_outbox').select('body').execute()
    assert.deepEqual(
      queued.map((row) => JSON.parse(row.body)),
      [{clientTraffics: [{email: 'alice', up: 0, down: 15}], inboundTraffics: []}],
    )
    await queuePush(db, hk1.id, new Map(), may10.now)
    assert.equal((await db.selectFrom('inform_outbox').select('id').execute()).length, 1)
  })
})
