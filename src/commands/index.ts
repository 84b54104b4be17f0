// The explicit command list oclif loads (package.json oclif.commands): no directory scan, no manifest to keep fresh.
import ConfigGet from './config/get.js'
import ConfigSet from './config/set.js'
import NodeAdd from './node/add.js'
import NodeList from './node/list.js'
import NodeRemove from './node/remove.js'
import NodeShow from './node/show.js'
import NodeTest from './node/test.js'
import PlanAdd from './plan/add.js'
import PlanList from './plan/list.js'
import PlanRemove from './plan/remove.js'
import PlanSet from './plan/set.js'
import QuotaSet from './quota/set.js'
import QuotaTopup from './quota/topup.js'
import StatsPull from './stats/pull.js'
import UserAdd from './user/add.js'
import UserDisable from './user/disable.js'
import UserEnable from './user/enable.js'
import UserList from './user/list.js'
import UserRemove from './user/remove.js'
import UserShow from './user/show.js'

export const COMMANDS = {
  'config:get': ConfigGet,
  'config:set': ConfigSet,
  'node:add': NodeAdd,
  'node:list': NodeList,
  'node:remove': NodeRemove,
  'node:show': NodeShow,
  'node:test': NodeTest,
  'plan:add': PlanAdd,
  'plan:list': PlanList,
  'plan:remove': PlanRemove,
  'plan:set': PlanSet,
  'quota:set': QuotaSet,
  'quota:topup': QuotaTopup,
  'stats:pull': StatsPull,
  'user:add': UserAdd,
  'user:disable': UserDisable,
  'user:enable': UserEnable,
  'user:list': UserList,
  'user:remove': UserRemove,
  'user:show': UserShow,
}
