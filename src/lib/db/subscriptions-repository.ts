import type {Db} from './open-database.js'

export async function readSubscriptionToken(db: Db, userId: number): Promise<string | undefined> {
  const row = await db
    .selectFrom('subscription_tokens')
    .select('token')
    .where('user_id', '=', userId)
    .executeTakeFirst()
  return row?.token
}

/** Sets the user's token, replacing any old one (which stops working at once). */
export async function writeSubscriptionToken(
  db: Db,
  row: {user_id: number; token: string; token_hash: string; created_at: number},
): Promise<void> {
  await db
    .insertInto('subscription_tokens')
    .values(row)
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({token: row.token, token_hash: row.token_hash, created_at: row.created_at}),
    )
    .execute()
}

/** Gives the user this token unless they have one already (made at the same moment elsewhere, say): theirs stays. */
export async function insertSubscriptionTokenIfAbsent(
  db: Db,
  row: {user_id: number; token: string; token_hash: string; created_at: number},
): Promise<void> {
  await db
    .insertInto('subscription_tokens')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute()
}

/** The user a token hash belongs to, by name, or undefined. */
export async function findSubscriptionUser(
  db: Db,
  tokenHash: string,
): Promise<{name: string; token_hash: string} | undefined> {
  return db
    .selectFrom('subscription_tokens')
    .innerJoin('users', 'users.id', 'subscription_tokens.user_id')
    .select(['users.name', 'subscription_tokens.token_hash'])
    .where('subscription_tokens.token_hash', '=', tokenHash)
    .executeTakeFirst()
}
