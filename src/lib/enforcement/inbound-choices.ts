import type {Db} from '../db/open-database.js'
import {inboundChoices} from '../db/users-repository.js'
import {effectiveInbounds} from '../domain/inbound-choice.js'

/**
 * The inbound tags of every user who has a choice (their own or their plan's); a user not in the map may be on every
 * managed inbound. Usually empty, and one small query when it is not.
 */
export async function inboundChoiceMap(db: Db): Promise<Map<string, readonly string[] | null>> {
  const rows = await inboundChoices(db)
  return new Map(rows.map((row) => [row.name, effectiveInbounds(row.inbounds, row.plan_inbounds)]))
}
