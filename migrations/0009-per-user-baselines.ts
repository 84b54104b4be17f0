import type {Kysely} from 'kysely'

// Node baselines change form: from every counter by name ({"names":[…],"values":[…]}) to each user's uplink and
// downlink in parallel arrays ({"users":[…],"up":[…],"down":[…]}, null where a direction has no counter), with the
// other counters still by name. Same values, half the map work per pull at 100k users. Being a migration, it also
// stops an older sbq, which would read the new form as every user counter gone (a restart, billing all traffic
// again), from opening the database.

// The counter-name rules as src/lib/accounting/counter-values.ts has them at 0009, copied because a migration must
// not change when that file does.
const userPrefix = 'user>>>'
const suffixes = {up: '>>>traffic>>>uplink', down: '>>>traffic>>>downlink'} as const

interface ByName {
  names: string[]
  values: number[]
}

interface PerUser extends ByName {
  users: string[]
  up: Array<number | null>
  down: Array<number | null>
}

function toPerUser(stored: ByName): PerUser {
  const byUser = new Map<string, {up: number | null; down: number | null}>()
  const out: PerUser = {users: [], up: [], down: [], names: [], values: []}
  stored.names.forEach((name, index) => {
    const value = stored.values[index]!
    const direction = !name.startsWith(userPrefix)
      ? undefined
      : name.endsWith(suffixes.up)
        ? 'up'
        : name.endsWith(suffixes.down)
          ? 'down'
          : undefined
    const user = direction === undefined ? '' : name.slice(userPrefix.length, name.length - suffixes[direction].length)
    if (direction === undefined || name.length <= userPrefix.length + suffixes[direction].length) {
      out.names.push(name)
      out.values.push(value)
      return
    }
    const counters = byUser.get(user) ?? {up: null, down: null}
    counters[direction] = value
    byUser.set(user, counters)
  })
  for (const [user, {up, down}] of byUser) {
    out.users.push(user)
    out.up.push(up)
    out.down.push(down)
  }
  return out
}

function toByName(stored: PerUser): ByName {
  const out: ByName = {names: [], values: []}
  stored.users.forEach((user, index) => {
    for (const direction of ['up', 'down'] as const) {
      const value = stored[direction][index]
      if (value === null || value === undefined) continue
      out.names.push(`${userPrefix}${user}${suffixes[direction]}`)
      out.values.push(value)
    }
  })
  out.names.push(...stored.names)
  out.values.push(...stored.values)
  return out
}

async function rewrite(db: Kysely<any>, convert: (stored: any) => ByName): Promise<void> {
  const rows: Array<{node_id: number; counters: string}> = await db
    .selectFrom('node_baselines')
    .select(['node_id', 'counters'])
    .execute()
  for (const row of rows) {
    await db
      .updateTable('node_baselines')
      .set({counters: JSON.stringify(convert(JSON.parse(row.counters)))})
      .where('node_id', '=', row.node_id)
      .execute()
  }
}

/** Baselines written before the array form (an object keyed by counter name) are read as that too. */
function byNameOf(stored: ByName | Record<string, number>): ByName {
  return Array.isArray(stored['names'])
    ? (stored as ByName)
    : {names: Object.keys(stored), values: Object.values(stored as Record<string, number>)}
}

export async function up(db: Kysely<any>): Promise<void> {
  await rewrite(db, (stored: ByName | PerUser | Record<string, number>) =>
    'users' in stored && Array.isArray(stored['users'])
      ? (stored as PerUser)
      : toPerUser(byNameOf(stored as ByName | Record<string, number>)),
  )
}

export async function down(db: Kysely<any>): Promise<void> {
  await rewrite(db, (stored: ByName | PerUser) => ('users' in stored ? toByName(stored) : stored))
}
