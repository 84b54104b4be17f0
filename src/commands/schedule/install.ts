import {Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {cronSchedule, installSchedule, installServe, type ScheduleResult} from '../../lib/schedule/schedule-service.js'
import {defaultDatabasePath} from '../../lib/db/open-database.js'
import {realpathSync} from 'node:fs'

export default class ScheduleInstall extends SbqCommand<typeof ScheduleInstall> {
  static override summary = 'Run sbq check on a schedule: a systemd timer, or a crontab line with --cron'
  static override examples = [
    '<%= config.bin %> schedule install --every 1m',
    '<%= config.bin %> schedule install --cron >> /etc/cron.d/sbq',
    '<%= config.bin %> schedule install --serve --listen 127.0.0.1:8787 --every 1m',
    '<%= config.bin %> schedule install --db postgres://sbq@db.internal/sbq --node tokyo --every 1m',
  ]
  static override flags = {
    every: Flags.string({description: 'how often (10s to 24h, e.g. 30s, 1m, 5m, 1h)', default: '1m'}),
    cron: Flags.boolean({description: 'print a line for /etc/cron.d instead of installing a systemd timer'}),
    'unit-dir': Flags.string({description: 'where the unit files go', default: '/etc/systemd/system'}),
    enable: Flags.boolean({
      description: 'reload systemd and start the timer (or the service)',
      default: true,
      allowNo: true,
    }),
    serve: Flags.boolean({
      description: 'install sbq serve as a service that also runs the check every --every, instead of a timer',
      exclusive: ['cron'],
    }),
    listen: Flags.string({description: 'with --serve: HOST:PORT sbq serve listens on', default: '127.0.0.1:8787'}),
    node: Flags.string({
      description: 'check only this node (repeatable): sbq check --node, for a proxy host of a fleet',
      multiple: true,
      exclusive: ['serve'],
    }),
  }

  async run(): Promise<ScheduleResult> {
    const input = {
      every: this.flags.every,
      sbqPath: realpathSync(process.argv[1]!),
      database: this.flags.db ?? defaultDatabasePath(),
      unitDir: this.flags['unit-dir'],
      enable: this.flags.enable,
      nodes: this.flags.node ?? [],
    }
    const result = this.flags.cron
      ? cronSchedule(input)
      : this.flags.serve
        ? installServe({...input, listen: this.flags.listen})
        : installSchedule(input)
    if (result.crontab) this.log(result.crontab)
    else if (this.flags.serve)
      this.log(`wrote ${result.files[0]}${result.enabled ? '; sbq serve is running (systemctl status sbq-serve)' : ''}`)
    else
      this.log(
        `wrote ${result.files.join(' and ')}${result.enabled ? '; the timer is running (systemctl list-timers sbq-check.timer)' : ''}`,
      )
    return result
  }
}
