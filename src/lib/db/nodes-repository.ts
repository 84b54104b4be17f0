import type {Insertable} from 'kysely'

import type {Baseline} from '../accounting/counter-deltas.js'
import type {Db} from './open-database.js'
import type {NodeRow, NodesTable} from './schema.js'

export async function findNode(db: Db, name: string): Promise<NodeRow | undefined> {
  return db.selectFrom('nodes').selectAll().where('name', '=', name).executeTakeFirst()
}

export async function listNodes(db: Db): Promise<NodeRow[]> {
  return db.selectFrom('nodes').selectAll().orderBy('name').execute()
}

export async function insertNode(db: Db, node: Insertable<NodesTable>): Promise<NodeRow> {
  return db.insertInto('nodes').values(node).returningAll().executeTakeFirstOrThrow()
}

export async function deleteNode(db: Db, id: number): Promise<void> {
  await db.deleteFrom('nodes').where('id', '=', id).execute()
}

/**
 * Counters are stored as two parallel arrays (`{"names":[…],"values":[…]}`): at 100k users that is 200k entries, and
 * arrays serialise and parse several times faster than an object with as many keys.
 */
interface StoredCounters {
  names: string[]
  values: number[]
}

export async function readBaseline(db: Db, nodeId: number): Promise<Baseline | null> {
  const row = await db.selectFrom('node_baselines').selectAll().where('node_id', '=', nodeId).executeTakeFirst()
  if (!row) return null
  const stored = JSON.parse(row.counters) as StoredCounters
  const counters = new Map<string, number>()
  for (let index = 0; index < stored.names.length; index++) counters.set(stored.names[index]!, stored.values[index]!)
  return {takenAt: row.taken_at, uptimeSeconds: row.uptime_seconds, counters}
}

export async function writeBaseline(db: Db, nodeId: number, baseline: Baseline): Promise<void> {
  const stored: StoredCounters = {names: [...baseline.counters.keys()], values: [...baseline.counters.values()]}
  const values = {taken_at: baseline.takenAt, uptime_seconds: baseline.uptimeSeconds, counters: JSON.stringify(stored)}
  await db
    .insertInto('node_baselines')
    .values({node_id: nodeId, ...values})
    .onConflict((oc) => oc.column('node_id').doUpdateSet(values))
    .execute()
}

export async function recordNodePull(db: Db, nodeId: number, at: number, error: string | null): Promise<void> {
  await db
    .updateTable('nodes')
    .set(error === null ? {last_pull_at: at, last_error: null} : {last_error: error})
    .where('id', '=', nodeId)
    .execute()
}
