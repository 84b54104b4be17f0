/**
 * Which checker can vouch for a proxy's config before sbq puts it in place. Looked up on PATH in-process, so a
 * missing `which` (minimal images) changes nothing.
 */
import {accessSync, constants, statSync} from 'node:fs'
import {delimiter, isAbsolute, join} from 'node:path'
import type {ProxyKind} from './user-lists.js'

export interface ValidateSpec {
  /** The checker's argv; the config file to check is appended as the last argument. */
  command: string[]
}

/** The absolute path of an executable `name` on PATH, or null. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    // An empty or relative PATH entry would resolve against sbq's cwd, which cron makes arbitrary.
    if (dir === '' || !isAbsolute(dir)) continue
    const candidate = join(dir, name)
    try {
      if (!statSync(candidate).isFile()) continue
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      continue
    }
  }
  return null
}

const CHECK_ARGS: Record<ProxyKind, {binary: string; args: string[]}> = {
  'sing-box': {binary: 'sing-box', args: ['check', '-c']},
  xray: {binary: 'xray', args: ['run', '-test', '-c']},
  v2ray: {binary: 'v2ray', args: ['-test', '-config']},
}

/** The checker for this proxy, or null when its binary is not on PATH (the config is then written unchecked). */
export function findValidator(proxy: ProxyKind, env: NodeJS.ProcessEnv = process.env): ValidateSpec | null {
  const {binary, args} = CHECK_ARGS[proxy]
  const path = findOnPath(binary, env)
  return path === null ? null : {command: [path, ...args]}
}
