// The one entry point of the bundle: bin/sbq runs oclif's execute from it, and oclif finds the commands in it
// (package.json oclif.commands), so oclif and every command share one copy of @oclif/core.
export {execute} from '@oclif/core'
export {COMMANDS} from './commands/index.js'
export {commandNotFound} from './commands/hooks/command-not-found.js'
