import {Args, Flags} from '@oclif/core'

import {SbqCommand} from './base-command.js'
import {backupDatabase, type BackupResult} from '../lib/reports/backup.js'
import {renderBackupResult} from '../lib/output/report-tables.js'
import {defaultDatabasePath} from '../lib/db/open-database.js'

export default class BackupCommand extends SbqCommand<typeof BackupCommand> {
  static override summary = 'Copy the database consistently while sbq keeps running (the copy is private, 0600)'
  static override examples = [
    '<%= config.bin %> backup /root/sbq.db',
    '<%= config.bin %> backup /var/backups/sbq --keep 7',
  ]
  static override args = {
    path: Args.string({
      description: 'backup file, or a directory to write sbq-YYYYMMDD-HHMMSS.db into',
      required: true,
    }),
  }
  static override flags = {
    keep: Flags.integer({description: 'with a directory: keep only the N newest backups', min: 1}),
  }

  async run(): Promise<BackupResult> {
    const context = await this.context()
    const result = await backupDatabase(
      this.flags.db ?? defaultDatabasePath(),
      this.args.path,
      {keep: this.flags.keep},
      context,
    )
    this.log(renderBackupResult(result))
    return result
  }
}
