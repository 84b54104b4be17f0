import {Flags} from '@oclif/core'

import {SbqCommand} from '../base-command.js'
import {setAdminPassword, type SetPasswordResult} from '../../lib/web/admin-password.js'
import {passwordFromStdin, passwordFromTerminal} from '../../lib/web/read-password.js'

export default class AdminSetPassword extends SbqCommand<typeof AdminSetPassword> {
  static override summary = "Set the web dashboard's admin password (stored as a scrypt hash)"
  static override description =
    'Asks twice on the terminal without echo, or reads stdin with --password-stdin. At least 10 characters. Every dashboard session is logged out; restart sbq serve if it ran without a password.'
  static override examples = [
    '<%= config.bin %> admin set-password',
    'printf %s "$PASSWORD" | <%= config.bin %> admin set-password --password-stdin',
  ]
  static override flags = {
    'password-stdin': Flags.boolean({description: 'read the password from stdin (one trailing newline is dropped)'}),
  }

  async run(): Promise<SetPasswordResult> {
    const password = this.flags['password-stdin'] ? await passwordFromStdin() : await passwordFromTerminal()
    const result = await setAdminPassword(await this.database(), password, (await this.context()).now)
    this.log(
      `admin password set${result.sessionsEnded > 0 ? `; ${result.sessionsEnded} dashboard session(s) logged out` : ''}`,
    )
    return result
  }
}
