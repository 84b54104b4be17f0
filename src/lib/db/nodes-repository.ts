import type {Insertable} from 'kysely'

import type {Baseline} from '../domain/counter-deltas.js'
import {CounterValues} from '../domain/counter-values.js'
import type {Db} from './open-database.js'
import type {NodeRow, NodesTable} from './schema.js'
import {dialectOf} from './dialects.js'

export async function findNode(db: Db, name: string): Promise<NodeRow | undefined> {
  return db.selectFrom('nodes').selectAll().where('name', '=', name).executeTakeFirst()
}

export async function listNodes(db: Db): Promise<NodeRow[]> {
  return db.selectFrom('nodes').selectAll().orderBy('name').execute()
}

export async function insertNode(db: Db, node: Insertable<NodesTable>): Promise<NodeRow> {
  return db.insertInto('nodes').values(node).returningAll().executeTakeFirstOrThrow()
}

export async function setNodePublicHost(db: Db, id: number, publicHost: string | null): Promise<void> {
  await db.updateTable('nodes').set({public_host: publicHost}).where('id', '=', id).execute()
}

export async function setNodeRatio(db: Db, id: number, ratio: number): Promise<void> {
  await db.updateTable('nodes').set({ratio_ten_thousandths: ratio}).where('id', '=', id).execute()
}

/**
 * Holds the node's row until the transaction ends: two reports of one node at once (3x-ui informs on a server
 * database) then bill its multiplied bytes one after the other, each against the rows the other wrote.
 */
export async function lockNode(db: Db, nodeId: number): Promise<void> {
  await dialectOf(db)
    .forUpdate(db.selectFrom('nodes').select('id').where('id', '=', nodeId))
    .execute()
}

export async function deleteNode(db: Db, id: number): Promise<void> {
  await db.deleteFrom('nodes').where('id', '=', id).execute()
}

/**
 * Counters are stored as parallel arrays, arrays being several times faster to serialise and parse than objects with
 * as many keys: per user `{"users":[…],"up":[…],"down":[…]}` (null where a direction has no counter), and the other
 * counters as `"names"`/`"values"` (migration 0009 brought older baselines to this form).
 */
interface StoredCounters {
  users: string[]
  up: Array<number | null>
  down: Array<number | null>
  names: string[]
  values: number[]
}

export async function readBaseline(db: Db, nodeId: number): Promise<Baseline | null> {
  const row = await db.selectFrom('node_baselines').selectAll().where('node_id', '=', nodeId).executeTakeFirst()
  if (!row) return null
  const stored = JSON.parse(row.counters) as StoredCounters
  const counters = new CounterValues()
  for (let index = 0; index < stored.users.length; index++)
    counters.setUser(stored.users[index]!, stored.up[index] ?? undefined, stored.down[index] ?? undefined)
  for (let index = 0; index < stored.names.length; index++) counters.set(stored.names[index]!, stored.values[index]!)
  return {takenAt: row.taken_at, uptimeSeconds: row.uptime_seconds, counters}
}

/**
 * The baseline, read with the node's row locked for the rest of the transaction: a second pull of the same node (from
 * another host, or a `stats pull` beside a check) waits, then reads the baseline this one writes, so no byte is billed
 * twice.
 */
export async function readBaselineForUpdate(db: Db, nodeId: number): Promise<Baseline | null> {
  await dialectOf(db)
    .forUpdate(db.selectFrom('nodes').select('id').where('id', '=', nodeId))
    .execute()
  return readBaseline(db, nodeId)
}

export async function writeBaseline(db: Db, nodeId: number, baseline: Baseline): Promise<void> {
  const {users, others} = baseline.counters
  const stored: StoredCounters = {users: [], up: [], down: [], names: [...others.keys()], values: [...others.values()]}
  for (const [user, counters] of users) {
    stored.users.push(user)
    stored.up.push(counters.up ?? null)
    stored.down.push(counters.down ?? null)
  }
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

/** Bytes counted for a node, for /metrics: kept with the usage rows they sum so a scrape never adds up daily rows. */
export async function addNodeCounted(db: Db, nodeId: number, up: number, down: number): Promise<void> {
  await db
    .updateTable('nodes')
    .set((eb) => ({counted_up: eb('counted_up', '+', up), counted_down: eb('counted_down', '+', down)}))
    .where('id', '=', nodeId)
    .execute()
}

/** A node's new inform token (its hash: the token itself is never stored) and the base URL its inform URI uses. */
export async function setInformToken(db: Db, nodeId: number, tokenHash: string, publicUrl: string): Promise<void> {
  await db.updateTable('nodes').set({token_hash: tokenHash, public_url: publicUrl}).where('id', '=', nodeId).execute()
}

/** A report the node sent and sbq refused (or partly refused): the sender never learns it, so the node keeps it. */
export interface Refusal {
  at: number
  /** The HTTP status the sender got (200 when the report was taken but some names were turned away); null: none, it left. */
  status: number | null
  reason: string
  /** The body's size in bytes, when known. */
  bytes: number | null
  /** Whole reports refused (1) or not (0: only names turned away). */
  reports: 0 | 1
  /** Unmanaged names turned away. */
  names: number
}

export async function recordRefusal(db: Db, nodeId: number, refusal: Refusal): Promise<void> {
  await db
    .updateTable('nodes')
    .set((eb) => ({
      refused_reports: eb('refused_reports', '+', refusal.reports),
      refused_names: eb('refused_names', '+', refusal.names),
      last_refused_at: refusal.at,
      last_refusal_status: refusal.status,
      last_refusal_reason: refusal.reason,
      last_refusal_bytes: refusal.bytes,
    }))
    .where('id', '=', nodeId)
    .execute()
}
