import {Chalk, type ChalkInstance} from 'chalk'

/** How output is coloured; only this folder knows it is chalk. */
export type Style = ChalkInstance

/** Colour only for a person at a terminal: never into pipes or files, never when NO_COLOR is set. */
export function createStyle(
  stream: NodeJS.WriteStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): ChalkInstance {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0'
  const enabled = forced || (stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb')
  return new Chalk({level: enabled ? 1 : 0})
}
