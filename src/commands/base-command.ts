import {Command, Errors, Flags, type Interfaces} from '@oclif/core'

import type {Context} from '../lib/context.js'
import type {NodeSync} from '../lib/enforcement/node-sync.js'
import {createStyle, type Style} from '../lib/output/style.js'
import {type Db, databaseFailure, defaultDatabasePath, openDatabase} from '../lib/db/open-database.js'
import type {Actor} from '../lib/db/schema.js'
import {ExitCode, SbqError, invalidInput} from '../lib/errors.js'
import {writeCompactJson} from '../lib/output/json-output.js'
import {installTimeZone} from '../lib/settings/settings.js'
import {syncNodes} from '../lib/enforcement/sync-nodes.js'
import {renderNodeSyncs, withHint} from '../lib/output/check-tables.js'

export type Flags<T extends typeof Command> = Interfaces.InferredFlags<(typeof SbqCommand)['baseFlags'] & T['flags']>
export type Args<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * Every sbq command extends this. It owns the global flags, the lazily opened and migrated database, the clock, and
 * the mapping of every failure to one line (or one JSON object) and a documented exit code.
 */
export abstract class SbqCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    db: Flags.string({
      description:
        'SQLite database file, or a postgres:// URL shared by many sbq hosts [default: /var/lib/sbq/sbq.db as root, else ~/.local/share/sbq/sbq.db]',
      env: 'SBQ_DB',
      helpGroup: 'GLOBAL',
    }),
  }

  /** Whether the command may run on a database whose upgrade waits for user names that differ only in case (0010). */
  static resolvesNameClash = false

  protected flags!: Flags<T>
  protected args!: Args<T>
  private openDb: Db | undefined
  private databasePath: string | undefined

  override async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof SbqCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as Flags<T>
    this.args = args as Args<T>
  }

  /** The database, opened and migrated on first use so commands that don't need it never pay for it. */
  protected async database(): Promise<Db> {
    if (!this.openDb) {
      this.databasePath = this.flags.db ?? defaultDatabasePath()
      this.openDb = await openDatabase(this.databasePath, {
        beforeNameClashCheck: (this.ctor as typeof SbqCommand).resolvesNameClash,
        warn: (line) => this.stderr(line),
      })
    }
    return this.openDb
  }

  protected async context(actor: Actor = 'cli'): Promise<Context> {
    return {now: clockNow(), timeZone: await installTimeZone(await this.database()), actor}
  }

  protected async style(): Promise<Style> {
    return createStyle()
  }

  /**
   * `--json` output, plain: oclif's logJson colourises on the way out, in time that grows much faster than the
   * output, and a 100k-user report is megabytes of JSON. Indented for a terminal; compact into a pipe or file (as gh
   * does), where a program reads it and the indentation would be a third of a large report's bytes.
   */
  override logJson(json: unknown): void {
    if (process.stdout.isTTY) {
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
      return
    }
    writeCompactJson(json, (text) => process.stdout.write(text))
    process.stdout.write('\n')
  }

  /** Renders a human view only when one is wanted: under --json the work of building tables is skipped. */
  protected async show(render: () => string | Promise<string>): Promise<void> {
    if (!this.jsonEnabled()) this.log(await render())
  }

  /** Progress and warnings: always to stderr, with --json too (oclif's logToStderr is silent under --json). */
  protected stderr(line: string): void {
    process.stderr.write(`${line}\n`)
  }

  /**
   * Puts a change just made to the database on every node, unless the operator said --no-apply. A node that cannot
   * be reached is a warning, not a failure: the change is saved and the next `sbq check` retries the node.
   */
  protected async applyToNodes(apply: boolean): Promise<NodeSync[]> {
    if (!apply) return []
    const nodes = await syncNodes(await this.database(), {}, await this.context())
    for (const line of renderNodeSyncs(nodes, await this.style())) this.stderr(line)
    for (const node of nodes)
      if (node.error)
        this.stderr(
          `warning: node "${node.name}" was not updated: ${node.error} (${withHint(node, 'sbq check retries it')})`,
        )
    return nodes
  }

  override async catch(error: Error & {exitCode?: number}): Promise<void> {
    if (error instanceof Errors.ExitError) throw error
    const failure =
      (this.databasePath === undefined ? undefined : databaseFailure(this.databasePath, error)) ?? toFailure(error)
    reportFailure(failure, this.jsonEnabled(), (json) => this.logJson(json))
    if (failure.exit === ExitCode.bug && process.env.SBQ_DEBUG) process.stderr.write(`${error.stack}\n`)
  }

  override async finally(error: Error | undefined): Promise<void> {
    try {
      await this.openDb?.destroy()
    } catch (closeError) {
      // Closing a damaged database fails again on the way out; the command's own error already said so.
      if (error === undefined) throw closeError
    }
    await super.finally(error)
  }
}

/** Sets the exit code and says what failed: one JSON error object under --json (on stdout), else one line on stderr. */
export function reportFailure(failure: SbqError, json: boolean, logJson: (json: unknown) => void): void {
  process.exitCode = failure.exit
  if (json) logJson({error: {code: failure.code, message: failure.message, hint: failure.hint ?? null}})
  else process.stderr.write(`error: ${failure.message}${failure.hint ? ` (${failure.hint})` : ''}\n`)
}

/** SBQ_NOW (ISO date or epoch ms) stands in for the clock; only the tests set it, to cross period boundaries. */
function clockNow(): number {
  const fake = process.env.SBQ_NOW
  if (fake === undefined || fake === '') return Date.now()
  const value = /^\d+$/.test(fake) ? Number(fake) : Date.parse(fake)
  if (Number.isNaN(value))
    throw invalidInput('INVALID_CLOCK', `SBQ_NOW "${fake}" is not a date`, 'unset SBQ_NOW; it is only for tests')
  return value
}

function toFailure(error: Error & {exitCode?: number; oclif?: {exit?: number}}): SbqError {
  if (error instanceof SbqError) return error
  if ('parse' in error || error.oclif?.exit === 2) {
    const line = error.message
      .split('\n')
      .filter((text) => text.trim() !== '' && !text.startsWith('See more help'))
      .map((text) => text.trim())
      .join(' ')
    return invalidInput('INVALID_USAGE', lowerFirst(line), 'see --help')
  }
  return new SbqError('INTERNAL', `unexpected failure: ${error.message}`, {
    exit: ExitCode.bug,
    hint: 'this is a bug in sbq; rerun with SBQ_DEBUG=1 for the stack trace and report it',
  })
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1)
}
