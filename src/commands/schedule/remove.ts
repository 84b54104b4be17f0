import {Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {removeSchedule} from '../../lib/schedule/schedule-service.js'

export default class ScheduleRemove extends SbqCommand<typeof ScheduleRemove> {
  static override summary = 'Stop and remove the systemd timer that runs sbq check'
  static override flags = {
    'unit-dir': Flags.string({description: 'where the unit files are', default: '/etc/systemd/system'}),
    enable: Flags.boolean({description: 'stop the timer and reload systemd', default: true, allowNo: true}),
  }

  async run(): Promise<{removed: string[]}> {
    const result = removeSchedule({unitDir: this.flags['unit-dir'], enable: this.flags.enable})
    this.log(result.removed.length > 0 ? `removed ${result.removed.join(' and ')}` : 'no sbq schedule was installed')
    return result
  }
}
