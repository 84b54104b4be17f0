import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {userInfo} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {runSbq, tempWorkspace} from '../support/run-sbq.js'

describe('sbq schedule (real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-schedule-')
  const unitDir = join(workspace.dir, 'units')
  const sbq = (...args: string[]) => runSbq(args, {db: workspace.db})
  after(() => workspace.cleanup())

  it('writes a oneshot service and a timer that run sbq check against this database', async () => {
    const result = await sbq('schedule', 'install', '--every', '30s', '--unit-dir', unitDir, '--no-enable', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual([result.json.method, result.json.enabled], ['systemd', false])
    const service = readFileSync(join(unitDir, 'sbq-check.service'), 'utf8')
    const timer = readFileSync(join(unitDir, 'sbq-check.timer'), 'utf8')
    assert.match(service, /^Type=oneshot$/m)
    assert.match(service, new RegExp(`^Environment="SBQ_DB=${workspace.db}"$`, 'm'))
    assert.match(service, /^ExecStart=\S+node \S+\/bin\/sbq check --quiet$/m)
    assert.match(timer, /^OnUnitActiveSec=30s$/m)
    assert.match(timer, /^WantedBy=timers.target$/m)
  })

  it('prints a crontab line with --cron', async () => {
    const result = await sbq('schedule', 'install', '--cron', '--every', '5m')
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`^\\*/5 \\* \\* \\* \\* ${userInfo().username} SBQ_DB=`))
    assert.match(result.stdout, /SBQ_DB=\S+ \S+node \S+\/bin\/sbq check --quiet\n$/)
  })

  it('a proxy host of a fleet: --node and a PostgreSQL URL go in as given; a password in the URL is refused', async () => {
    const fleet = 'postgres://sbq@db.internal:5432/sbq'
    const cron = await runSbq(['schedule', 'install', '--cron', '--node', 'tokyo', '--node', 'tokyo 2'], {db: fleet})
    assert.equal(cron.code, 0, cron.stderr)
    assert.match(
      cron.stdout,
      /SBQ_DB=postgres:\/\/sbq@db\.internal:5432\/sbq \S+node \S+\/bin\/sbq check --quiet --node tokyo --node 'tokyo 2'\n$/,
    )
    const units = join(workspace.dir, 'fleet-units')
    const timer = await runSbq(['schedule', 'install', '--unit-dir', units, '--no-enable', '--node', 'tokyo'], {
      db: fleet,
    })
    assert.equal(timer.code, 0, timer.stderr)
    const service = readFileSync(join(units, 'sbq-check.service'), 'utf8')
    assert.match(service, /^Environment="SBQ_DB=postgres:\/\/sbq@db\.internal:5432\/sbq"$/m)
    assert.match(service, /^ExecStart=\S+node \S+\/bin\/sbq check --quiet --node tokyo$/m)

    const secret = await runSbq(['schedule', 'install', '--cron'], {db: 'postgres://sbq:Hunter2Secret@db.internal/sbq'})
    assert.equal(secret.code, 2)
    assert.equal(secret.stdout, '')
    assert.match(
      secret.stderr,
      /^error: database URL has a password, which a unit file or crontab would show [^\n]+\n$/,
    )
    assert.ok(!secret.stderr.includes('Hunter2Secret'))
  })

  it('refuses an interval it cannot schedule, in one line', async () => {
    for (const [args, pattern] of [
      [['--every', '5s'], /interval "5s" is not one sbq can schedule/],
      [['--cron', '--every', '7m'], /interval "7m" cannot be said in cron/],
    ] as const) {
      const result = await sbq('schedule', 'install', '--unit-dir', unitDir, '--no-enable', ...args)
      assert.equal(result.code, 2)
      assert.match(result.stderr, pattern)
      assert.equal(result.stderr.trimEnd().split('\n').length, 1)
    }
  })

  it('--serve writes a long-running service that serves and checks on the interval', async () => {
    const result = await sbq(
      'schedule',
      'install',
      '--serve',
      '--every',
      '2m',
      '--listen',
      '127.0.0.1:9999',
      '--unit-dir',
      unitDir,
      '--no-enable',
      '--json',
    )
    assert.equal(result.code, 0, result.stderr)
    const service = readFileSync(join(unitDir, 'sbq-serve.service'), 'utf8')
    assert.match(service, /^Type=simple$/m)
    assert.match(service, /^Restart=on-failure$/m)
    assert.match(service, /^ExecStart=\S+node \S+\/bin\/sbq serve --listen 127\.0\.0\.1:9999 --check-every 2m$/m)
  })

  it('removes what it installed', async () => {
    const result = await sbq('schedule', 'remove', '--unit-dir', unitDir, '--no-enable', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.json.removed.length, 3)
    assert.ok(!existsSync(join(unitDir, 'sbq-check.timer')))
  })
})
