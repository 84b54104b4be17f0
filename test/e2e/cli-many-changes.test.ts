import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {seedDatabase} from '../../bench/lib/seed-database.js'
import {nodeConfigPath} from '../../bench/lib/seed-plan.js'
import {openDatabase} from '../../src/lib/db/open-database.js'
import {defaultResetRule} from '../../src/lib/domain/reset-rules.js'
import {currentPeriod} from '../../src/lib/domain/periods.js'
import {installTimeZone} from '../../src/lib/settings/settings.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'
import {withRawDb} from '../support/raw-database.js'
import {freshDatabase} from '../support/test-database.js'

const GiB = 1024 ** 3
const users = 10_000

/**
 * SQLite refuses a statement with more than 32,766 bound values (better-sqlite3's build), so a multi-row insert of
 * events (7 values a row) broke at 4,681 rows: one check, reset or import that changed more users failed whole.
 */
describe(`${users} users change status at once (seeded database, stub V2Ray API, real bin/sbq)`, () => {
  const workspace = tempWorkspace('sbq-many-')
  const env = {SBQ_NOW: '2024-05-20T12:00:00Z'}
  let stub: StubV2rayApi

  before(async () => {
    stub = await StubV2rayApi.start({flavor: 'v2ray'})
    await seedDatabase(workspace.db, {users, nodeApi: stub.address, dir: workspace.dir, monthlyQuota: GiB})
    const db = await openDatabase(workspace.db)
    const period = currentPeriod(null, Date.parse(env.SBQ_NOW), defaultResetRule, await installTimeZone(db))
    await db.destroy()
    // Every user over quota in the fixed clock's period.
    await withRawDb(workspace.db, (raw) =>
      raw
        .updateTable('user_usage')
        .set({period_start: period.start, period_end: period.end, period_down: 2 * GiB})
        .execute(),
    )
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  const eventCount = (kind: string, to: string | null, db = workspace.db) =>
    withRawDb(db, async (raw) => {
      const row = await raw
        .selectFrom('events')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('kind', '=', kind)
        .where('to_status', to === null ? 'is' : '=', to)
        .executeTakeFirstOrThrow()
      return Number(row.n)
    })

  it('check limits every one of them and records every change', async () => {
    const check = await runSbq(['check', '--no-pull', '--json'], {db: workspace.db, env})
    assert.equal(check.code, 0, check.stderr + check.stdout.slice(0, 500))
    assert.equal(check.json.changes.length, users)
    assert.ok(check.json.changes.every((change: {to: string}) => change.to === 'limited'))
    assert.equal(await eventCount('status', 'limited'), users)
    const list = await runSbq(['user', 'list', '--json'], {db: workspace.db, env})
    assert.ok((list.json as Array<{status: string}>).every((user) => user.status === 'limited'))
  })

  it('reset --all resets and re-enables every one of them', async () => {
    const reset = await runSbq(['reset', '--all', '--json'], {db: workspace.db, env})
    assert.equal(reset.code, 0, reset.stderr + reset.stdout.slice(0, 500))
    assert.equal(reset.json.reset.length, users)
    assert.equal(reset.json.changes.length, users)
    assert.equal(await eventCount('reset', null), users)
    assert.equal(await eventCount('status', 'active'), users)
  })

  it('node add --import adopts every user of a config and records each one', async () => {
    const fresh = freshDatabase(workspace.dir, 'import.db')
    const add = await runSbq(
      [
        'node',
        'add',
        'v2',
        '--type',
        'v2ray',
        '--api',
        stub.address,
        '--config',
        nodeConfigPath(workspace.dir, 'bench'),
        '--apply',
        'true',
        '--import',
        '--json',
      ],
      {db: fresh, env},
    )
    assert.equal(add.code, 0, add.stderr + add.stdout.slice(0, 500))
    assert.equal(add.json.imported.added.length, users)
    assert.equal(await eventCount('created', 'active', fresh), users)
  })
})
