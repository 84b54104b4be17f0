import {sql, type Kysely} from 'kysely'

import {SbqError} from '../src/lib/errors.js'

// User names become unique without regard to case. Xray and V2Ray lower-case every email before comparing it, so
// "alice" and "ALICE" on one inbound make the proxy refuse its config (and stop at its next restart). sbq names are
// ASCII letters, digits and ._@-, so SQLite's NOCASE, which folds ASCII only, folds them exactly as the proxies do.
//
// A database that already has such names is not changed: which person keeps the name is the operator's call.

export async function up(db: Kysely<any>): Promise<void> {
  const users: Array<{id: number; name: string}> = await db
    .selectFrom('users')
    .select(['id', 'name'])
    .orderBy('id')
    .execute()
  const byKey = new Map<string, string[]>()
  for (const {name} of users) {
    const key = name.toLowerCase()
    byKey.set(key, [...(byKey.get(key) ?? []), name])
  }
  const clashes = [...byKey.values()].filter((names) => names.length > 1)
  if (clashes.length > 0) {
    // Oldest first: the later spellings are the likelier mistakes, so the hint names one of those.
    const listed = clashes.map((names) => names.map((name) => `"${name}"`).join(' and ')).join('; ')
    throw new SbqError(
      'USER_NAME_CLASH',
      `has users whose names differ only in case, which V2Ray and Xray take for one user: ${listed}`,
      {
        exit: 3,
        hint: `keep one of each: sbq user remove ${clashes[0]!.at(-1)!}, and add that person again under another name; then run sbq again`,
      },
    )
  }
  await sql`CREATE UNIQUE INDEX users_name_nocase ON users (name COLLATE NOCASE)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX users_name_nocase`.execute(db)
}
