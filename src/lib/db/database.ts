import type {Kysely} from 'kysely'

import type {Database} from './schema.js'

/** sbq's database, whichever dialect it is on. */
export type Db = Kysely<Database>
