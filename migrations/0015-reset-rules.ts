import {sql, type Kysely} from 'kysely'

// A period's reset rule, as text (src/lib/domain/reset-rules.ts): `monthly:15`, `weekly:mon`, `daily`, `yearly:03-15`,
// `rolling:30d`, `never`. It replaces reading reset_day, which stays for rows written before. A user's null means the
// plan's rule; a plan's null means monthly on its reset_day. Users with a reset day of their own get it as their rule,
// so a plan that later changes its rule does not move them.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('plans').addColumn('reset', 'text').execute()
  await db.schema.alterTable('users').addColumn('reset', 'text').execute()
  await sql`update plans set reset = 'monthly:' || reset_day`.execute(db)
  await sql`update users set reset = 'monthly:' || reset_day where reset_day is not null`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('reset').execute()
  await db.schema.alterTable('plans').dropColumn('reset').execute()
}
