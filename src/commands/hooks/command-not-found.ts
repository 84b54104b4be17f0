import type {Hook} from '@oclif/core'

import {invalidInput} from '../../lib/errors.js'
import {reportFailure} from '../base-command.js'

/**
 * oclif's `command_not_found` hook (package.json oclif.hooks): an unknown command, or a word after a command that takes
 * no arguments (oclif reads `sbq user list extra` as the command "user list extra"), is bad input like any other: one
 * line, exit 2, and sbq's JSON error under --json.
 */
export const commandNotFound: Hook<'command_not_found'> = async function ({id, config}) {
  const words = id.split(':')
  const spaced = (count: number) => words.slice(0, count).join(' ')
  const longest = (found: (prefix: string) => unknown) =>
    [...words.keys()].reverse().find((count) => count > 0 && found(words.slice(0, count).join(':')))
  const command = longest((prefix) => config.findCommand(prefix))
  const failure =
    command === undefined
      ? invalidInput(
          'UNKNOWN_COMMAND',
          `"${words.join(' ')}" is not an sbq command`,
          `see: ${[config.bin, ...words.slice(0, longest((prefix) => config.findTopic(prefix)) ?? 0), '--help'].join(' ')}`,
        )
      : invalidInput(
          'UNEXPECTED_ARGUMENT',
          `"${config.bin} ${spaced(command)}" takes no argument "${words.slice(command).join(' ')}"`,
          `see: ${config.bin} ${spaced(command)} --help`,
        )
  reportFailure(failure, process.argv.includes('--json'), (json) => process.stdout.write(`${JSON.stringify(json)}\n`))
}
