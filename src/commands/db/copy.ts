import {Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {copyDatabase, type DbCopyResult} from '../../lib/reports/db-copy.js'
import {renderDbCopyResult} from '../../lib/output/report-tables.js'
import {defaultDatabasePath} from '../../lib/db/open-database.js'

export default class DbCopyCommand extends SbqCommand<typeof DbCopyCommand> {
  static override summary = 'Copy the database into a new one: SQLite to PostgreSQL, back, or file to file'
  static override description =
    'Copies every sbq table of the database (--db or SBQ_DB) from one consistent snapshot into LOCATION, a new or ' +
    'empty PostgreSQL database (postgres://...) or SQLite file, in one transaction, then checks that every table has ' +
    'as many rows and every user the same ledger totals in the copy as in the source. The source is not changed, and ' +
    "must already be at this sbq's schema. Locks and dashboard logins are not copied. See docs/moving-databases.md."
  static override examples = [
    '<%= config.bin %> db copy --to postgres://sbq@db.example.net/sbq',
    'SBQ_DB=postgres://sbq@db.example.net/sbq <%= config.bin %> db copy --to /var/lib/sbq/sbq.db',
  ]
  static override flags = {
    to: Flags.string({
      description: 'the new database: a postgres:// URL (an empty database) or an SQLite file that is new or empty',
      required: true,
    }),
  }

  async run(): Promise<DbCopyResult> {
    const result = await copyDatabase(this.flags.db ?? defaultDatabasePath(), this.flags.to, {
      progress: (line) => this.stderr(line),
      warn: (line) => this.stderr(line),
    })
    await this.show(async () => renderDbCopyResult(result, await this.style()))
    return result
  }
}
