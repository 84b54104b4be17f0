import {isServerDatabase} from '../../src/lib/db/open-database.js'
import {postgresSeeder} from './postgres-seeder.js'
import {planSeed, writeNodeConfigs, type SeedOptions, type Seeder} from './seed-plan.js'
import {sqliteSeeder} from './sqlite-seeder.js'

export {reportMonth, type SeedOptions} from './seed-plan.js'

/** The seeder for an SQLite file or a postgres:// URL. */
export function seederFor(location: string): Seeder {
  return isServerDatabase(location) ? postgresSeeder : sqliteSeeder
}

/**
 * A database as `sbq user add` x N and `sbq node add` would leave it, with a month of daily rows, on either
 * dialect: sbq's own migrations make the schema, then the dialect's bulk inserts fill it with the same rows.
 */
export async function seedDatabase(location: string, options: SeedOptions): Promise<void> {
  const plan = await planSeed(location, options)
  await seederFor(location).seed(location, plan)
  writeNodeConfigs(plan)
}

export function putOnePercentOverQuota(target: {db: string; dir: string}): Promise<void> {
  return seederFor(target.db).putOnePercentOverQuota(target)
}

export function putTenthLimitedAtMonthEnd(target: {db: string; dir: string}): Promise<void> {
  return seederFor(target.db).putTenthLimitedAtMonthEnd(target)
}
