import {readFile} from 'node:fs/promises'

import {unreachable} from '../errors.js'

/** A proxy's config file as text; a missing or unreadable file is the node's error (exit 4), not bad input. */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw unreachable(
      'CONFIG_MISSING',
      `proxy config "${path}" cannot be read: ${(error as Error).message}`,
      "check --config points at the proxy's config file",
    )
  }
}
