import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {sql} from 'kysely'

import {openDatabase, type Db} from '../../src/lib/db/open-database.js'
import {sbqTables, tableNames} from '../../src/lib/db/tables.js'
import {repoRoot} from '../support/paths.js'

/** The tables of `interface Database` in schema.ts, read from the source: what the copy list must name. */
function schemaTables(): string[] {
  const text = readFileSync(join(repoRoot, 'src', 'lib', 'db', 'schema.ts'), 'utf8')
  const body = /export interface Database \{([^}]*)\}/.exec(text)?.[1]
  assert.ok(body, 'schema.ts has no `export interface Database {...}`')
  return [...body.matchAll(/^\s*(\w+):/gm)].map((match) => match[1]!)
}

// The list is about the schema, not a dialect: the migrations' tables are read from SQLite on either pass.
describe('the table list sbq db copy copies (src/lib/db/tables.ts)', () => {
  let db: Db
  before(async () => {
    db = await openDatabase(':memory:')
  })
  after(async () => {
    await db.destroy()
  })

  const rows = async <T>(query: string): Promise<T[]> => (await sql<T>`${sql.raw(query)}`.execute(db)).rows

  it('names every table of schema.ts, and no other', () => {
    assert.deepEqual([...tableNames].sort(), schemaTables().sort())
  })

  it('names every table the migrations create, but the migrator’s own', async () => {
    const created = (await rows<{name: string}>("select name from sqlite_master where type = 'table'"))
      .map((row) => row.name)
      .filter((name) => !name.startsWith('kysely_migration') && !name.startsWith('sqlite_'))
    assert.deepEqual([...tableNames].sort(), created.sort())
  })

  it('puts each table after the tables it references (the order a copy writes them in)', async () => {
    for (const [index, name] of tableNames.entries()) {
      const parents = await rows<{table: string}>(`pragma foreign_key_list(${name})`)
      for (const {table} of parents)
        assert.ok(tableNames.indexOf(table as never) < index, `${name} references ${table}, which comes after it`)
    }
  })

  it("gives each table's primary key in order, and marks the generated ids", async () => {
    for (const name of tableNames) {
      const columns = await rows<{name: string; pk: number}>(`pragma table_info(${name})`)
      const key = columns
        .filter((column) => column.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((column) => column.name)
      assert.deepEqual(sbqTables[name].key, key, name)
      const [definition] = await rows<{sql: string}>(`select sql from sqlite_master where name = '${name}'`)
      assert.equal(sbqTables[name].generatedId === true, /autoincrement/i.test(definition!.sql), name)
    }
  })
})
