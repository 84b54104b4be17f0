/**
 * Which checker can vouch for a proxy's config before sbq puts it in place. Looked up on PATH in-process, so a
 * missing `which` (minimal images) changes nothing.
 */
import {findOnPath} from '../../config-file/find-on-path.js'
import type {ValidateSpec} from '../../config-file/replace-config.js'
import type {ProxyKind} from './user-lists.js'

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
