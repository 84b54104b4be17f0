// The explicit command list oclif loads (package.json oclif.commands): no directory scan, no manifest to keep fresh.
import AdminSetPassword from './admin/set-password.js'
import AlertAdd from './alert/add.js'
import AlertList from './alert/list.js'
import AlertRemove from './alert/remove.js'
import AlertTest from './alert/test.js'
import Check from './check.js'
import Backup from './backup.js'
import ConfigGet from './config/get.js'
import ConfigSet from './config/set.js'
import DbCopy from './db/copy.js'
import NodeAdd from './node/add.js'
import NodeList from './node/list.js'
import NodeRemove from './node/remove.js'
import NodeRotateToken from './node/rotate-token.js'
import NodeSet from './node/set.js'
import NodeShow from './node/show.js'
import NodeSync from './node/sync.js'
import NodeTest from './node/test.js'
import PlanAdd from './plan/add.js'
import PlanList from './plan/list.js'
import PlanRemove from './plan/remove.js'
import PlanSet from './plan/set.js'
import Prune from './prune.js'
import QuotaSet from './quota/set.js'
import QuotaTopup from './quota/topup.js'
import Report from './report.js'
import Reset from './reset.js'
import Serve from './serve.js'
import ScheduleInstall from './schedule/install.js'
import ScheduleRemove from './schedule/remove.js'
import StatsPull from './stats/pull.js'
import UserAdd from './user/add.js'
import UserDisable from './user/disable.js'
import UserEnable from './user/enable.js'
import UserList from './user/list.js'
import UserRemove from './user/remove.js'
import UserLink from './user/link.js'
import UserRotateLink from './user/rotate-link.js'
import UserShow from './user/show.js'

export const COMMANDS = {
  'admin:set-password': AdminSetPassword,
  'alert:add': AlertAdd,
  'alert:list': AlertList,
  'alert:remove': AlertRemove,
  'alert:test': AlertTest,
  backup: Backup,
  check: Check,
  'config:get': ConfigGet,
  'config:set': ConfigSet,
  'db:copy': DbCopy,
  'node:add': NodeAdd,
  'node:list': NodeList,
  'node:remove': NodeRemove,
  'node:rotate-token': NodeRotateToken,
  'node:set': NodeSet,
  'node:show': NodeShow,
  'node:sync': NodeSync,
  'node:test': NodeTest,
  'plan:add': PlanAdd,
  'plan:list': PlanList,
  'plan:remove': PlanRemove,
  'plan:set': PlanSet,
  prune: Prune,
  'quota:set': QuotaSet,
  'quota:topup': QuotaTopup,
  report: Report,
  reset: Reset,
  serve: Serve,
  'schedule:install': ScheduleInstall,
  'schedule:remove': ScheduleRemove,
  'stats:pull': StatsPull,
  'user:add': UserAdd,
  'user:disable': UserDisable,
  'user:enable': UserEnable,
  'user:list': UserList,
  'user:remove': UserRemove,
  'user:link': UserLink,
  'user:rotate-link': UserRotateLink,
  'user:show': UserShow,
}
