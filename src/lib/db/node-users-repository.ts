import {selectJsonRows} from './json-rows.js'
import type {Db} from './open-database.js'

export async function appliedUsers(db: Db, nodeId: number): Promise<Set<string>> {
  const rows = await selectJsonRows(db, db.selectFrom('node_users').select('user_name').where('node_id', '=', nodeId))
  return new Set(rows.map((row) => row.user_name))
}

/**
 * Records what a node now carries, after a sync that reached it. The table ends up exactly `names`, whatever another
 * sync recorded meanwhile (the last to reach the node wins, as its list is what the node now has), and only the
 * names that differ from the table as it stands are written.
 */
export async function recordAppliedUsers(
  db: Db,
  nodeId: number,
  names: ReadonlySet<string>,
  at: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const stored = await appliedUsers(trx, nodeId)
    const gone = [...stored].filter((name) => !names.has(name))
    const added = [...names].filter((name) => !stored.has(name))
    for (let offset = 0; offset < gone.length; offset += 500) {
      await trx
        .deleteFrom('node_users')
        .where('node_id', '=', nodeId)
        .where('user_name', 'in', gone.slice(offset, offset + 500))
        .execute()
    }
    const rows = added.map((user_name) => ({node_id: nodeId, user_name}))
    for (let offset = 0; offset < rows.length; offset += 500)
      await trx
        .insertInto('node_users')
        .values(rows.slice(offset, offset + 500))
        .execute()
    await trx.updateTable('nodes').set({synced_at: at}).where('id', '=', nodeId).execute()
  })
}

/**
 * Who a node lacks (active users it was not given) and who it has too many (users it was given that are no longer
 * active), worked out in SQL: a check where nothing changed reads no names at all.
 */
export async function nodeDifference(db: Db, nodeId: number): Promise<{missing: string[]; surplus: string[]}> {
  if (await nodeMatches(db, nodeId)) return {missing: [], surplus: []}
  const missing = await db
    .selectFrom('users')
    .select('users.name')
    .where('users.status', '=', 'active')
    .where(({not, exists, selectFrom}) =>
      not(
        exists(
          selectFrom('node_users as nu')
            .select('nu.user_name')
            .where('nu.node_id', '=', nodeId)
            .whereRef('nu.user_name', '=', 'users.name'),
        ),
      ),
    )
    .execute()
  const surplus = await db
    .selectFrom('node_users as nu')
    .select('nu.user_name')
    .where('nu.node_id', '=', nodeId)
    .where(({not, exists, selectFrom}) =>
      not(
        exists(
          selectFrom('users')
            .select('users.name')
            .where('users.status', '=', 'active')
            .whereRef('users.name', '=', 'nu.user_name'),
        ),
      ),
    )
    .execute()
  return {missing: missing.map((row) => row.name), surplus: surplus.map((row) => row.user_name)}
}

/**
 * Whether a node was given exactly the active users, by counting: active users, names given, and names given that are
 * active users. Names are unique on both sides, so the three agree only when the sets are equal. One pass of lookups
 * instead of the two anti-joins that name the difference (0.1 s against 0.3 s at 100k users, on every check).
 */
async function nodeMatches(db: Db, nodeId: number): Promise<boolean> {
  const counts = await db
    .selectNoFrom((eb) => [
      eb.selectFrom('users').select(eb.fn.countAll<number>().as('n')).where('users.status', '=', 'active').as('active'),
      eb
        .selectFrom('node_users')
        .select(eb.fn.countAll<number>().as('n'))
        .where('node_users.node_id', '=', nodeId)
        .as('applied'),
      eb
        .selectFrom('users')
        .innerJoin('node_users as nu', (join) =>
          join.onRef('nu.user_name', '=', 'users.name').on('nu.node_id', '=', nodeId),
        )
        .select(eb.fn.countAll<number>().as('n'))
        .where('users.status', '=', 'active')
        .as('matched'),
    ])
    .executeTakeFirstOrThrow()
  const matched = Number(counts.matched)
  return Number(counts.active) === matched && Number(counts.applied) === matched
}

/**
 * Makes the next sync of every node a full push (as `sbq node sync` does): every active user on the inbounds their
 * choice gives, and every other managed name off. What each node was given stays recorded, so a user limited in the
 * meantime is still taken off. Used when an inbound choice changes, which no difference of names shows.
 */
export async function pushEverythingAgain(db: Db): Promise<void> {
  await db.updateTable('nodes').set({synced_at: null}).execute()
}
