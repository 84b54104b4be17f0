import {Args} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {setSetting, type SettingView} from '../../lib/settings/settings.js'
import {renderSettings} from '../../lib/output/tables.js'

export default class ConfigSet extends SbqCommand<typeof ConfigSet> {
  static override summary = 'Change an install-wide setting ("default" restores the default)'
  static override examples = ['<%= config.bin %> config set timezone Europe/Berlin']
  static override args = {
    key: Args.string({description: 'setting name', required: true}),
    value: Args.string({description: 'new value, or default', required: true}),
  }

  async run(): Promise<SettingView> {
    const setting = await setSetting(await this.database(), this.args.key, this.args.value)
    this.log(renderSettings([setting], await this.style()))
    return setting
  }
}
