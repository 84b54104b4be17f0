import type {Migration} from 'kysely'

import * as usersQuotasPlans from './0001-users-quotas-plans.js'
import * as nodesAndLedger from './0002-nodes-and-ledger.js'
import * as alerts from './0003-alerts.js'
import * as usageMonthly from './0004-usage-monthly.js'
import * as enforcement from './0005-enforcement.js'
import * as inform from './0006-inform.js'
import * as ledgerByDay from './0007-ledger-by-day.js'
import * as webDashboard from './0008-web-dashboard.js'
import * as perUserBaselines from './0009-per-user-baselines.js'
import * as userNamesWithoutCase from './0010-user-names-without-case.js'
import * as informRefusals from './0011-inform-refusals.js'
import * as nodePublicHost from './0012-node-public-host.js'
import * as subscriptionTokens from './0013-subscription-tokens.js'
import * as inboundChoice from './0014-inbound-choice.js'
import * as resetRules from './0015-reset-rules.js'
import * as nodeRatio from './0016-node-ratio.js'
import * as firstUse from './0017-first-use.js'
import * as interfaceDrift from './0018-interface-drift.js'
import * as trafficPackages from './0019-traffic-packages.js'

/** Every migration, in order. Listed by hand so nothing is discovered by scanning a directory at run time. */
export const migrations: Record<string, Migration> = {
  '0001-users-quotas-plans': usersQuotasPlans,
  '0002-nodes-and-ledger': nodesAndLedger,
  '0003-alerts': alerts,
  '0004-usage-monthly': usageMonthly,
  '0005-enforcement': enforcement,
  '0006-inform': inform,
  '0007-ledger-by-day': ledgerByDay,
  '0008-web-dashboard': webDashboard,
  '0009-per-user-baselines': perUserBaselines,
  '0010-user-names-without-case': userNamesWithoutCase,
  '0011-inform-refusals': informRefusals,
  '0012-node-public-host': nodePublicHost,
  '0013-subscription-tokens': subscriptionTokens,
  '0014-inbound-choice': inboundChoice,
  '0015-reset-rules': resetRules,
  '0016-node-ratio': nodeRatio,
  '0017-first-use': firstUse,
  '0018-interface-drift': interfaceDrift,
  '0019-traffic-packages': trafficPackages,
}
