import type {InterfaceCounters} from '../domain/interface-drift.js'
import type {Db} from './open-database.js'
import type {InterfaceDayRow} from './schema.js'

/** Names (or with null clears) the interface a node is compared with; a new interface starts from no reading. */
export async function setNodeInterface(db: Db, nodeId: number, hostInterface: string | null): Promise<void> {
  await db
    .updateTable('nodes')
    .set({host_interface: hostInterface, interface_rx: null, interface_tx: null, interface_read_at: null})
    .where('id', '=', nodeId)
    .execute()
}

/** The interface's counters at the node's last pull; read inside the pull's transaction, after the node is locked. */
export async function readInterfaceReading(db: Db, nodeId: number): Promise<InterfaceCounters | null> {
  const row = await db
    .selectFrom('nodes')
    .select(['interface_rx', 'interface_tx'])
    .where('id', '=', nodeId)
    .executeTakeFirst()
  if (!row || row.interface_rx === null || row.interface_tx === null) return null
  return {rx: row.interface_rx, tx: row.interface_tx}
}

export async function writeInterfaceReading(
  db: Db,
  nodeId: number,
  counters: InterfaceCounters,
  at: number,
): Promise<void> {
  await db
    .updateTable('nodes')
    .set({interface_rx: counters.rx, interface_tx: counters.tx, interface_read_at: at})
    .where('id', '=', nodeId)
    .execute()
}

/** Forgets the last reading: the next one is a new start, so no interval is compared with counts of another. */
export async function forgetInterfaceReading(db: Db, nodeId: number): Promise<void> {
  await db
    .updateTable('nodes')
    .set({interface_rx: null, interface_tx: null, interface_read_at: null})
    .where('id', '=', nodeId)
    .execute()
}

/** Adds one pull's interface and counted bytes to the node's day, and returns the day's totals. */
export async function addInterfaceDay(
  db: Db,
  nodeId: number,
  day: string,
  bytes: {interfaceBytes: number; countedBytes: number},
): Promise<InterfaceDayRow> {
  return db
    .insertInto('interface_daily')
    .values({
      node_id: nodeId,
      day,
      interface_bytes: bytes.interfaceBytes,
      counted_bytes: bytes.countedBytes,
      warned_at: null,
    })
    .onConflict((oc) =>
      oc.columns(['node_id', 'day']).doUpdateSet((eb) => ({
        interface_bytes: eb(eb.ref('interface_daily.interface_bytes'), '+', eb.ref('excluded.interface_bytes')),
        counted_bytes: eb(eb.ref('interface_daily.counted_bytes'), '+', eb.ref('excluded.counted_bytes')),
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow()
}

/** Marks the day drifting unless it already was; returns whether this call marked it (the day's first warning). */
export async function markInterfaceDayWarned(db: Db, nodeId: number, day: string, at: number): Promise<boolean> {
  const result = await db
    .updateTable('interface_daily')
    .set({warned_at: at})
    .where('node_id', '=', nodeId)
    .where('day', '=', day)
    .where('warned_at', 'is', null)
    .executeTakeFirst()
  return result.numUpdatedRows === 1n
}

/** Each node's latest day with interface figures, by node id. */
export async function latestInterfaceDays(db: Db): Promise<Map<number, InterfaceDayRow>> {
  const rows = await db
    .selectFrom('interface_daily')
    .selectAll()
    .where(({eb, selectFrom}) =>
      eb(
        'day',
        '=',
        selectFrom('interface_daily as latest')
          .select((inner) => inner.fn.max('latest.day').as('day'))
          .whereRef('latest.node_id', '=', 'interface_daily.node_id'),
      ),
    )
    .execute()
  return new Map(rows.map((row) => [row.node_id, row]))
}
