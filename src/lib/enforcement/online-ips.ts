import type {Db} from '../db/open-database.js'
import {listNodes} from '../db/nodes-repository.js'
import {SbqError} from '../errors.js'
import {connectNode, driverOf} from '../proxies/registry.js'

export interface OnlineIps {
  /** Distinct IPs per user across every node that can tell (Xray's GetUsersStats, else GetStatsOnlineIpList). */
  counts: Map<string, number>
  /** Nodes that could not be asked, with why. */
  errors: Array<{node: string; error: string}>
}

const concurrency = 16

/**
 * Counts each watched user's distinct online IPs over every node whose proxy tracks them (Xray), or over those of
 * them named in `only` (a check of some nodes asks only its own). Others cannot say, and `sbq node test` tells the
 * operator so; an unreachable node is reported and skipped.
 */
export async function countOnlineIps(db: Db, names: string[], only?: readonly string[]): Promise<OnlineIps> {
  const result: OnlineIps = {counts: new Map(), errors: []}
  if (names.length === 0) return result
  const seen = new Map<string, Set<string>>()
  const remember = (name: string, ips: ReadonlyMap<string, number>): void => {
    const set = seen.get(name) ?? new Set<string>()
    for (const ip of ips.keys()) set.add(ip)
    seen.set(name, set)
  }
  const asked = only === undefined ? undefined : new Set(only)
  const nodes = (await listNodes(db)).filter(
    (row) => driverOf(row).onlineIps && (asked === undefined || asked.has(row.name)),
  )
  for (const node of nodes) {
    const api = await connectNode(node)
    try {
      // One call for every online user where the proxy has it, instead of one per watched user.
      const everyone = (await api.allOnlineIps?.()) ?? null
      if (everyone !== null) {
        // A watched user it does not list has no IP online there, as a per-user answer of none would say.
        for (const name of names) remember(name, everyone.get(name) ?? new Map())
        continue
      }
      if (api.onlineIps === undefined) continue
      const lookup = api.onlineIps.bind(api)
      let next = 0
      const worker = async () => {
        while (next < names.length) {
          const name = names[next++]!
          remember(name, await lookup(name))
        }
      }
      await Promise.all(Array.from({length: Math.min(concurrency, names.length)}, worker))
    } catch (error) {
      if (!(error instanceof SbqError)) throw error
      result.errors.push({node: node.name, error: error.message})
    } finally {
      api.close()
    }
  }
  for (const [name, ips] of seen) result.counts.set(name, ips.size)
  return result
}
