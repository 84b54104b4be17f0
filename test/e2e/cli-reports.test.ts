import assert from 'node:assert/strict'
import {mkdirSync, readdirSync, statSync} from 'node:fs'
import {createServer} from 'node:http'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import BetterSqlite3 from 'better-sqlite3'

import {formatSize} from '../../src/lib/output/format.js'
import {parseCsv} from '../../src/lib/reports/csv.js'
import {runSbq, tempWorkspace, type SbqResult} from '../support/run-sbq.js'
import {insertRows, withRawDb} from '../support/raw-database.js'
import {sqliteOnly} from '../support/test-database.js'

const MiB = 1024 ** 2
const GiB = 1024 ** 3
const workspace = tempWorkspace('sbq-reports-')
const db = workspace.db
const sbq = (...args: string[]) => runSbq(args, {db, env: {SBQ_NOW: '2024-06-10T12:00:00Z'}})

interface Row {
  name: string
  status: string
  up: number
  down: number
  total: number
  percent: number | null
  periodStart: string | null
}

// May 2024, per user: alice on two nodes, bob on one, a removed user, and an unmanaged name on the side.
const expectedMay = [
  {name: 'alice', status: 'active', up: 512 * MiB, down: 3 * GiB},
  {name: 'bob', status: 'active', up: 100 * MiB, down: 900 * MiB},
  {name: 'old', status: 'removed', up: 0, down: 3 * MiB},
  {name: 'carol', status: 'active', up: 0, down: 0},
]

function assertOneLineError(result: SbqResult, exit: number, pattern: RegExp) {
  assert.equal(result.code, exit, result.stdout)
  assert.equal(result.stdout, '')
  assert.match(result.stderr, pattern)
  assert.equal(result.stderr.trim().split('\n').length, 1)
}

async function seed() {
  await insertRows(
    db,
    'usage_daily',
    (
      [
        ['2024-04-03', 'n1', 'alice', 0, 1 * GiB],
        ['2024-04-28', 'n2', 'bob', 10 * MiB, 20 * MiB],
        ['2024-05-01', 'n1', 'alice', 512 * MiB, 2 * GiB],
        ['2024-05-31', 'n2', 'alice', 0, 1 * GiB],
        ['2024-05-20', 'n2', 'bob', 100 * MiB, 900 * MiB],
        ['2024-05-10', 'n1', 'old', 0, 3 * MiB],
        ['2024-06-02', 'n1', 'alice', 1 * MiB, 1 * MiB],
      ] as const
    ).map(([day, node_name, user_name, up, down]) => ({
      day,
      node_name,
      user_name,
      up,
      down,
      raw_up: up,
      raw_down: down,
    })),
  )
  await insertRows(db, 'unmanaged_usage_daily', [
    {day: '2024-05-02', node_name: 'n1', name: 'mallory', up: 1024, down: 2048},
  ])
  // The running totals as pulls would have left them: bob's period (May 15 - June 15) holds his May 20 traffic.
  await withRawDb(db, (raw) =>
    raw
      .updateTable('user_usage')
      .set({period_up: 100 * MiB, period_down: 900 * MiB})
      .where('user_id', '=', raw.selectFrom('users').select('id').where('name', '=', 'bob'))
      .execute(),
  )
}

describe('sbq report, prune and backup (real bin/sbq)', () => {
  before(async () => {
    for (const args of [
      ['config', 'set', 'timezone', 'UTC'],
      ['user', 'add', 'alice', '--monthly', '10'],
      ['user', 'add', 'bob', '--monthly', '1', '--reset-day', '15'],
      ['user', 'add', 'carol'],
    ]) {
      const result = await sbq(...args, '--json')
      assert.equal(result.code, 0, result.stderr)
    }
    await seed()
  })
  after(() => workspace.cleanup())

  it('--json has every user of the month with integer bytes, busiest first, idle last, and separate unmanaged', async () => {
    const result = await sbq('report', '--month', '2024-05', '--json')
    assert.equal(result.code, 0, result.stderr)
    const report = result.json
    assert.equal(report.month, '2024-05')
    assert.equal(report.from, '2024-05-01T00:00:00.000Z')
    assert.equal(report.to, '2024-06-01T00:00:00.000Z')
    assert.deepEqual(
      report.rows.map((row: Row) => ({name: row.name, status: row.status, up: row.up, down: row.down})),
      expectedMay,
    )
    for (const row of report.rows as Row[]) assert.equal(row.total, row.up + row.down)
    const up = expectedMay.reduce((sum, row) => sum + row.up, 0)
    const down = expectedMay.reduce((sum, row) => sum + row.down, 0)
    // Every node at ratio 1: billed bytes are the raw ones.
    assert.deepEqual(report.totals, {up, down, total: up + down, raw: {up, down, total: up + down}})
    assert.deepEqual(report.unmanaged, {up: 1024, down: 2048, total: 3072, names: 1})
    const [alice, bob] = report.rows as Row[]
    assert.equal(alice!.percent, 35)
    assert.equal(alice!.periodStart, '2024-05-01T00:00:00.000Z')
    assert.equal(bob!.percent, Math.round(((1000 * MiB) / GiB) * 1000) / 10)
    assert.equal(bob!.periodStart, '2024-05-15T00:00:00.000Z')
  })

  it('the table shows the same numbers as human sizes, a totals row and the unmanaged line apart', async () => {
    const result = await sbq('report', '--month', '2024-05')
    assert.equal(result.code, 0, result.stderr)
    const lines = result.stdout.split('\n')
    for (const row of expectedMay) {
      const line = lines.find((text) => text.includes(` ${row.name} `))
      assert.ok(line, row.name)
      const cells = line.split('│').map((cell) => cell.trim())
      assert.deepEqual(cells.slice(1, 6), [
        row.name,
        row.status,
        formatSize(row.up),
        formatSize(row.down),
        formatSize(row.up + row.down),
      ])
    }
    assert.match(
      lines.find((text) => text.includes(' alice '))!,
      /10\.0 GiB.*35%.*2024-05-01 → 2024-06-01/,
    )
    const total = lines.map((text) => text.split('│').map((cell) => cell.trim())).find((cells) => cells[1] === 'total')!
    assert.deepEqual(total.slice(3, 6), [
      formatSize(612 * MiB),
      formatSize(3 * GiB + 903 * MiB),
      formatSize(3 * GiB + 1515 * MiB),
    ])
    assert.match(
      result.stdout,
      /unmanaged \(not billed, not in the totals\): 3\.0 KiB \(up 1\.0 KiB, down 2\.0 KiB\) by 1 name/,
    )
    const active = await sbq('report', '--month', '2024-05', '--active')
    assert.doesNotMatch(active.stdout, / carol /)
  })

  it('CSV is RFC 4180 with integer bytes and parses back to the JSON numbers', async () => {
    const csv = await sbq('report', '--month', '2024-05', '--format', 'csv')
    assert.equal(csv.code, 0, csv.stderr)
    assert.ok(csv.stdout.endsWith('\r\n'))
    const json = (await sbq('report', '--month', '2024-05', '--format', 'json')).json
    const [header, ...rows] = parseCsv(csv.stdout)
    const column = (name: string) => header!.indexOf(name)
    const users = rows.filter((row) => row[0] === 'user')
    assert.deepEqual(
      users.map((row) => ({
        name: row[column('name')],
        up: Number(row[column('up')]),
        down: Number(row[column('down')]),
        total: Number(row[column('total')]),
      })),
      json.rows.map((row: Row) => ({name: row.name, up: row.up, down: row.down, total: row.total})),
    )
    const total = rows.find((row) => row[0] === 'total')!
    assert.deepEqual([total[column('up')], total[column('down')], total[column('total')]].map(Number), [
      json.totals.up,
      json.totals.down,
      json.totals.total,
    ])
    assert.deepEqual(
      rows
        .find((row) => row[0] === 'unmanaged')!
        .slice(3, 6)
        .map(Number),
      [1024, 2048, 3072],
    )
  })

  it('--by node and --node split by node; --user gives the days of the month', async () => {
    const nodes = (await sbq('report', '--month', '2024-05', '--by', 'node', '--json')).json
    const onN1 = {up: 512 * MiB, down: 2 * GiB + 3 * MiB, total: 512 * MiB + 2 * GiB + 3 * MiB}
    const onN2 = {up: 100 * MiB, down: 1 * GiB + 900 * MiB, total: 1 * GiB + 1000 * MiB}
    assert.deepEqual(nodes.rows, [
      {name: 'n1', ...onN1, raw: onN1, users: 2, unmanaged: 3072},
      {name: 'n2', ...onN2, raw: onN2, users: 2, unmanaged: 0},
    ])
    const n2 = (await sbq('report', '--month', '2024-05', '--node', 'n2', '--active', '--json')).json
    assert.deepEqual(
      n2.rows.map((row: Row) => [row.name, row.total]),
      [
        ['alice', 1 * GiB],
        ['bob', 1000 * MiB],
      ],
    )
    const alice = await sbq('report', '--month', '2024-05', '--user', 'alice', '--json')
    assert.equal(alice.json.days.length, 31)
    const first = {up: 512 * MiB, down: 2 * GiB, total: 512 * MiB + 2 * GiB}
    const last = {up: 0, down: 1 * GiB, total: 1 * GiB}
    assert.deepEqual(alice.json.days[0], {day: '2024-05-01', ...first, raw: first})
    assert.deepEqual(alice.json.days[30], {day: '2024-05-31', ...last, raw: last})
    assert.equal(alice.json.currentPeriod.start, '2024-06-01T00:00:00.000Z')
    const table = await sbq('report', '--month', '2024-05', '--user', 'alice')
    assert.match(table.stdout, /2024-05-01 │ 512 MiB │ 2\.0 GiB │ 2\.5 GiB │ █{20}/)
    assert.match(table.stdout, /2024-05-31 │ 0 B {5}│ 1\.0 GiB │ 1\.0 GiB │ █{8} /)
  })

  it('a month reports the same before and after prune', async () => {
    const months = ['2024-04', '2024-05', '2024-06']
    const reports = async () =>
      Promise.all(
        months.flatMap((month) => [
          sbq('report', '--month', month, '--json'),
          sbq('report', '--month', month, '--by', 'node', '--json'),
        ]),
      )
    // Bytes must not change. Percentages may: a billing period split by a folded month (bob's April 15 - May 15) can no
    // longer be summed, and says so with null rather than a wrong number.
    const bytesOf = (rows: Array<Row & {users?: number}>) =>
      rows.map(({name, up, down, total, users}) => ({name, up, down, total, users}))
    const strip = (results: SbqResult[]) =>
      results.map((result) => ({
        rows: bytesOf(result.json.rows),
        totals: result.json.totals,
        unmanaged: result.json.unmanaged,
      }))
    const beforePrune = strip(await reports())
    // A month later, so that a cut-off in June folds all of April and May.
    const pruned = await runSbq(['prune', '--before', '2024-06-05'], {db, env: {SBQ_NOW: '2024-07-02T00:00:00Z'}})
    assert.equal(pruned.code, 0, pruned.stderr)
    assert.match(pruned.stdout, /rounded down to a month's first day/)
    assert.match(pruned.stdout, /folded months 2024-04 to 2024-05/)
    assert.deepEqual(strip(await reports()), beforePrune)
    const april = (await sbq('report', '--month', '2024-04', '--json')).json.rows as Row[]
    assert.equal(april.find((row) => row.name === 'alice')!.percent, 10, 'a calendar-month period is still whole')
    assert.equal(april.find((row) => row.name === 'bob')!.percent, null)
    assert.match((await sbq('report', '--month', '2024-04')).stdout, / bob .*unknown \(pruned\)/)
    const alice = (await sbq('report', '--month', '2024-05', '--user', 'alice', '--json')).json
    const folded = {up: 512 * MiB, down: 3 * GiB, total: 512 * MiB + 3 * GiB}
    assert.deepEqual(alice.folded, {...folded, raw: folded})
    assert.deepEqual(alice.totals, alice.folded)
  })

  it('--top keeps the busiest rows and the totals of everyone', async () => {
    const top = (await sbq('report', '--month', '2024-05', '--top', '1', '--json')).json
    const all = (await sbq('report', '--month', '2024-05', '--json')).json
    assert.deepEqual(
      top.rows.map((row: Row) => row.name),
      [expectedMay[0]!.name],
    )
    assert.deepEqual(top.totals, all.totals)
  })

  it('prune --keep-days that reaches into the current month is refused the same way', async () => {
    assertOneLineError(
      await sbq('prune', '--keep-days', '3'),
      2,
      /^error: cut-off "2024-06-0\d" is in the current month/,
    )
  })

  it('prune refuses a cut-off in the current month with one line, exit 2', async () => {
    assertOneLineError(
      await sbq('prune', '--before', '2024-06-01'),
      2,
      /^error: cut-off "2024-06-01" is in the current month/,
    )
  })

  it(
    'backup writes a private copy that opens and holds the same rows; --keep rotates',
    {skip: sqliteOnly},
    async () => {
      const target = join(workspace.dir, 'copy.db')
      const result = await sbq('backup', target, '--json')
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.json.path, target)
      assert.equal(statSync(target).mode & 0o777, 0o600)
      const rows = (path: string) => {
        const sqlite = new BetterSqlite3(path, {readonly: true})
        try {
          return ['users', 'usage_daily', 'usage_monthly', 'unmanaged_usage_monthly'].map((table) =>
            sqlite.prepare(`select * from ${table} order by 1, 2, 3`).all(),
          )
        } finally {
          sqlite.close()
        }
      }
      assert.deepEqual(rows(target), rows(db))
      const dir = join(workspace.dir, 'backups')
      mkdirSync(dir)
      for (const now of ['2024-06-10T12:00:00Z', '2024-06-11T12:00:00Z', '2024-06-12T12:00:00Z']) {
        const rotated = await runSbq(['backup', dir, '--keep', '2'], {db, env: {SBQ_NOW: now}})
        assert.equal(rotated.code, 0, rotated.stderr)
      }
      assert.deepEqual(readdirSync(dir).sort(), ['sbq-20240611-120000.db', 'sbq-20240612-120000.db'])
    },
  )

  it('a bad month is exit 2 and an unknown user or node exit 3, one line each', async () => {
    assertOneLineError(await sbq('report', '--month', '2024-13'), 2, /^error: month "2024-13" is not a calendar month/)
    assertOneLineError(
      await sbq('report', '--month', 'yesterday'),
      2,
      /^error: month "yesterday" is not a calendar month/,
    )
    assertOneLineError(await sbq('report', '--user', 'nobody'), 3, /^error: user "nobody" does not exist/)
    assertOneLineError(await sbq('report', '--node', 'nowhere'), 3, /^error: node "nowhere" does not exist/)
    const json = await sbq('report', '--month', '2024-13', '--json')
    assert.equal(json.code, 2)
    assert.equal(json.json.error.code, 'INVALID_MONTH')
  })

  it('--notify sends the summary through the alert channels; without any it says so and exits 4', async () => {
    const none = await sbq('report', '--month', '2024-05', '--notify')
    assert.equal(none.code, 4)
    assert.match(none.stdout, /^top: alice 3\.5 GiB, bob 1000 MiB, old 3\.0 MiB$/m)
    assert.match(none.stdout, /near quota \(≥80%\): bob 97\.7%/)
    assert.match(none.stderr, /^error: there are no alert channels to send the summary to/)

    const received: Array<{kind: string; text: string}> = []
    const server = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => (body += chunk.toString()))
      request.on('end', () => {
        received.push(JSON.parse(body) as {kind: string; text: string})
        response.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as {port: number}).port}/hook`
      assert.equal((await sbq('alert', 'add', 'webhook', url)).code, 0)
      const sent = await sbq('report', '--month', '2024-05', '--notify', '--json')
      assert.equal(sent.code, 0, sent.stderr)
      assert.equal(sent.json.notification.error, null)
      assert.equal(received.length, 1)
      assert.equal(received[0]!.kind, 'summary')
      assert.match(received[0]!.text, /top: alice 3\.5 GiB/)
    } finally {
      server.close()
    }
  })
})
