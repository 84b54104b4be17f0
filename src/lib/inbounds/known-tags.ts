import {readConfigText} from '../config-file/read-config.js'
import {listNodes} from '../db/nodes-repository.js'
import type {Db} from '../db/open-database.js'
import {invalidInput, SbqError} from '../errors.js'
import {driverOf} from '../proxies/registry.js'
import {managedInboundTags} from '../proxies/shared/config-sync.js'

/**
 * Refuses an inbound choice naming a tag that no node manages, when sbq can read every node's inbounds (a typo would
 * otherwise take the user off every inbound). A node whose inbounds sbq cannot read here (a 3x-ui panel, a node
 * without a config file, a config that does not parse now) may have any tag, so then nothing is refused.
 */
export async function assertKnownInboundTags(db: Db, tags: readonly string[]): Promise<void> {
  const known = new Set<string>()
  for (const node of await listNodes(db)) {
    const read = driverOf(node).readShareInbounds
    if (read === undefined || node.config_path === null) return
    try {
      const text = await readConfigText(node.config_path)
      for (const inbound of read(text, node.config_path, managedInboundTags(node), node.api)) known.add(inbound.tag)
    } catch (error) {
      if (error instanceof SbqError) return
      throw error
    }
  }
  const unknown = tags.filter((tag) => !known.has(tag))
  if (unknown.length === 0) return
  throw invalidInput(
    'INBOUND_NOT_FOUND',
    `inbound "${unknown[0]}" is not managed on any node`,
    known.size === 0
      ? 'add a node first (sbq node add), or leave --inbounds out'
      : `the managed inbounds are: ${[...known].sort().join(', ')}`,
  )
}
