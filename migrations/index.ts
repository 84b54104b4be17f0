import type {Migration} from 'kysely'

import * as usersQuotasPlans from './0001-users-quotas-plans.js'
import * as nodesAndLedger from './0002-nodes-and-ledger.js'

/** Every migration, in order. Listed by hand so nothing is discovered by scanning a directory at run time. */
export const migrations: Record<string, Migration> = {
  '0001-users-quotas-plans': usersQuotasPlans,
  '0002-nodes-and-ledger': nodesAndLedger,
}
