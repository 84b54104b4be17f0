import {Args} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {getSettings, type SettingView} from '../../lib/settings/settings.js'
import {renderSettings} from '../../lib/output/tables.js'

export default class ConfigGet extends SbqCommand<typeof ConfigGet> {
  static override summary = 'Show install-wide settings (all, or one)'
  static override args = {key: Args.string({description: 'setting name, e.g. timezone'})}

  async run(): Promise<SettingView[]> {
    const settings = await getSettings(await this.database(), this.args.key)
    this.log(renderSettings(settings, await this.style()))
    return settings
  }
}
