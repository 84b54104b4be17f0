import {batchedInsert} from './batched-upsert.js'
import type {Db} from './open-database.js'
import type {UnmanagedUsageDailyTable, UsageDailyTable, UserUsageTable} from './schema.js'

/** A managed user's running usage, with the reset day in force (their own, else their plan's). */
export interface RunningUsage extends UserUsageTable {
  name: string
  resetDay: number | null
}

/** Few names are looked up one by one (a 3x-ui report every few seconds); many are read with every user at once. */
const lookupLimit = 500

export async function loadRunningUsage(db: Db, names?: readonly string[]): Promise<Map<string, RunningUsage>> {
  const only = names !== undefined && names.length <= lookupLimit ? names : undefined
  if (only?.length === 0) return new Map()
  const query = db
    .selectFrom('users')
    .innerJoin('user_usage as u', 'u.user_id', 'users.id')
    .leftJoin('plans as p', 'p.id', 'users.plan_id')
    .select(['users.name', 'u.user_id', 'u.period_start', 'u.period_end', 'u.period_up', 'u.period_down', 'u.total_up', 'u.total_down', 'u.updated_at'])
    .select((eb) => eb.fn.coalesce('users.reset_day', 'p.reset_day').as('resetDay'))
  const rows = await (only === undefined ? query : query.where('users.name', 'in', only)).execute()
  return new Map(rows.map((row) => [row.name, row]))
}

export async function writeRunningUsage(db: Db, rows: UserUsageTable[]): Promise<void> {
  await batchedInsert(db, rows, (trx, batch) =>
    trx
      .insertInto('user_usage')
      .values(batch)
      .onConflict((oc) =>
        oc.column('user_id').doUpdateSet((eb) => ({
          period_start: eb.ref('excluded.period_start'),
          period_end: eb.ref('excluded.period_end'),
          period_up: eb.ref('excluded.period_up'),
          period_down: eb.ref('excluded.period_down'),
          total_up: eb.ref('excluded.total_up'),
          total_down: eb.ref('excluded.total_down'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      ),
  )
}

export async function addDailyUsage(db: Db, rows: UsageDailyTable[]): Promise<void> {
  await batchedInsert(db, rows, (trx, batch) =>
    trx
      .insertInto('usage_daily')
      .values(batch)
      .onConflict((oc) =>
        oc.columns(['day', 'node_name', 'user_name']).doUpdateSet((eb) => ({
          up: eb(eb.ref('usage_daily.up'), '+', eb.ref('excluded.up')),
          down: eb(eb.ref('usage_daily.down'), '+', eb.ref('excluded.down')),
        })),
      ),
  )
}

export async function addUnmanagedDailyUsage(db: Db, rows: UnmanagedUsageDailyTable[]): Promise<void> {
  await batchedInsert(db, rows, (trx, batch) =>
    trx
      .insertInto('unmanaged_usage_daily')
      .values(batch)
      .onConflict((oc) =>
        oc.columns(['day', 'node_name', 'name']).doUpdateSet((eb) => ({
          up: eb(eb.ref('unmanaged_usage_daily.up'), '+', eb.ref('excluded.up')),
          down: eb(eb.ref('unmanaged_usage_daily.down'), '+', eb.ref('excluded.down')),
        })),
      ),
  )
}
