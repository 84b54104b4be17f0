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

  it('writes a PostgreSQL URL as it is, and refuses one with a password, which the unit would show to every user', async () => {
    const url = 'postgres://sbq@db.example:5432/sbq'
    const written = await runSbq(['schedule', 'install', '--unit-dir', unitDir, '--no-enable', '--json'], {db: url})
    assert.equal(written.code, 0, written.stderr)
    assert.match(
      readFileSync(join(unitDir, 'sbq-check.service'), 'utf8'),
      /^Environment="SBQ_DB=postgres:\/\/sbq@db\.example:5432\/sbq"$/m,
    )
    const refused = await runSbq(['schedule', 'install', '--cron'], {db: 'postgres://sbq:hunter2@db.example/sbq'})
    assert.equal(refused.code, 2)
    assert.match(
      refused.stderr,
      /^error: database "postgres:\/\/sbq:\*\*\*@db\.example\/sbq" has a password, .*~\/\.pgpass/,
    )
    assert.doesNotMatch(refused.stderr + refused.stdout, /hunter2/)
  })

  it('prints a crontab line with --cron', async () => {
    const result = await sbq('schedule', 'install', '--cron', '--every', '5m')
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`^\\*/5 \\* \\* \\* \\* ${userInfo().username} SBQ_DB=`))
    assert.match(result.stdout, /SBQ_DB=\S+ \S+node \S+\/bin\/sbq check --quiet\n$/)
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
