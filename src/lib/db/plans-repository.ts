import type {Db} from './open-database.js'
import type {PlanRow, PlansTable} from './schema.js'
import type {Insertable, Updateable} from 'kysely'

export async function findPlan(db: Db, name: string): Promise<PlanRow | undefined> {
  return db.selectFrom('plans').selectAll().where('name', '=', name).executeTakeFirst()
}

export async function insertPlan(db: Db, plan: Insertable<PlansTable>): Promise<PlanRow> {
  return db.insertInto('plans').values(plan).returningAll().executeTakeFirstOrThrow()
}

export async function updatePlan(db: Db, id: number, changes: Updateable<PlansTable>): Promise<void> {
  await db.updateTable('plans').set(changes).where('id', '=', id).execute()
}

export async function deletePlan(db: Db, id: number): Promise<void> {
  await db.deleteFrom('plans').where('id', '=', id).execute()
}

export async function listPlansWithUserCounts(db: Db): Promise<Array<PlanRow & {users: number}>> {
  const rows = await db
    .selectFrom('plans')
    .leftJoin('users', 'users.plan_id', 'plans.id')
    .selectAll('plans')
    .select((eb) => eb.fn.count<number>('users.id').as('users'))
    .groupBy('plans.id')
    .orderBy('plans.name')
    .execute()
  return rows.map((row) => ({...row, users: Number(row.users)}))
}

export async function countUsersOnPlan(db: Db, planId: number): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('plan_id', '=', planId)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
