import type {Db} from './open-database.js'

export async function readSettings(db: Db): Promise<Map<string, string>> {
  const rows = await db.selectFrom('settings').select(['key', 'value']).execute()
  return new Map(rows.map((row) => [row.key, row.value]))
}

export async function writeSetting(db: Db, key: string, value: string | null): Promise<void> {
  if (value === null) {
    await db.deleteFrom('settings').where('key', '=', key).execute()
    return
  }
  await db
    .insertInto('settings')
    .values({key, value})
    .onConflict((oc) => oc.column('key').doUpdateSet({value}))
    .execute()
}
