import {readConfigText} from '../config-file/read-config.js'
import {SbqError, invalidInput} from '../errors.js'
import type {ConfigInbound, ProxyDriver} from '../proxies/proxy-driver.js'

/**
 * Reads the inbounds sbq manages from a config file of the node's proxy type. The tags are the operator's input, so a
 * tag the file lacks is bad input (exit 2), with the tags it has in the hint.
 */
export async function readConfigInbounds(
  driver: ProxyDriver,
  path: string,
  inbounds: string[] | undefined,
): Promise<ConfigInbound[]> {
  const read = driver.readConfigInbounds
  if (read === undefined) {
    throw invalidInput(
      'NODE_HAS_NO_CONFIG',
      `a ${driver.type} node keeps its users in its panel, not in a config file sbq reads`,
      'leave out --config and --import',
    )
  }
  const text = await readConfigText(path)
  try {
    return read(text, path, inbounds)
  } catch (error) {
    if (!(error instanceof SbqError && error.code === 'INBOUND_NOT_FOUND')) throw error
    const tags = read(text, path, undefined).map((inbound) => inbound.tag)
    throw invalidInput(
      'INBOUND_NOT_FOUND',
      error.message,
      tags.length > 0
        ? `inbounds with users it has: ${tags.join(', ')}`
        : 'it has no inbound with users that sbq can manage',
    )
  }
}
