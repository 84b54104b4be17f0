import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {dueAlerts, alertStateOf} from '../../src/lib/domain/due-alerts.js'
import {listUserRecords, usersToJudge} from '../../src/lib/db/users-repository.js'
import {decideStatus} from '../../src/lib/domain/decide-status.js'
import {addPlan} from '../../src/lib/plans/plan-service.js'
import {topUp} from '../../src/lib/quotas/quota-service.js'
import {addUser, setUserStatus} from '../../src/lib/users/user-service.js'
import {toUserView} from '../../src/lib/domain/user.js'
import type {ResetRule} from '../../src/lib/domain/reset-rules.js'
import {contextAt, memoryDb} from '../support/memory-db.js'

const GiB = 1024 ** 3
const dayMs = 24 * 60 * 60 * 1000

/** A small deterministic generator (mulberry32), so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('users a check judges', () => {
  for (const seed of [1, 2, 3]) {
    it(`include everyone whose status or alerts the exact rules would change (seed ${seed}, 300 random users)`, async () => {
      const next = random(seed)
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
      const db = await memoryDb()
      const start = contextAt('2024-05-10T12:00:00Z')
      const now = start.now + 3 * dayMs
      await addPlan(db, 'small', {monthlyQuota: 1 * GiB, totalQuota: 5 * GiB, maxIps: 2}, start)
      await addPlan(db, 'unlimited', {}, start)
      for (let index = 0; index < 300; index++) {
        const name = `u${index}`
        await addUser(
          db,
          {
            name,
            plan: pick([undefined, 'small', 'unlimited']),
            monthlyQuota: pick([undefined, 0, 1 * GiB, 2 * GiB]),
            totalQuota: pick([undefined, undefined, 0, 3 * GiB]),
            reset: pick<ResetRule | undefined>([
              undefined,
              {every: 'month', day: 1},
              {every: 'month', day: 12},
              {every: 'month', day: 13},
              {every: 'week', weekday: 3},
              {every: 'day'},
              {every: 'rolling', days: 30},
            ]),
            expiresAt: pick([null, null, now - dayMs, now + 2 * dayMs, now + 30 * dayMs]),
          },
          start,
        )
        const used = Math.floor(next() * 3 * GiB)
        const down = Math.floor(used * next())
        await db
          .updateTable('user_usage')
          .set((eb) => ({
            period_up: used - down,
            period_down: down,
            total_up: eb('total_up', '+', used - down),
            total_down: eb('total_down', '+', down + Math.floor(next() * GiB)),
          }))
          .where('user_id', '=', db.selectFrom('users').select('id').where('name', '=', name))
          .execute()
        if (next() < 0.2) await topUp(db, name, 1 * GiB, null, start)
        const status = pick(['active', 'active', 'active', 'disabled', 'limited', 'expired'] as const)
        if (status !== 'active') await db.updateTable('users').set({status}).where('name', '=', name).execute()
        if (status === 'disabled') await setUserStatus(db, name, 'disabled', null, start)
      }
      const context = {...start, now}
      const ipsSeen = ['u3', 'u4']
      const rules = {thresholds: [80, 100], expiryDays: 3}
      const judged = new Set(
        await usersToJudge(db, {
          now,
          ipsSeen,
          alerts: {lowestPercent: 80, expiringBefore: now + rules.expiryDays * dayMs},
        }),
      )
      let mustJudge = 0
      for (const record of await listUserRecords(db)) {
        const view = toUserView(record, context)
        const decision = decideStatus(view, now, {
          ipsSeen: ipsSeen.includes(view.name) ? 9 : undefined,
          enforceMaxIps: true,
        })
        const alerts = view.status === 'disabled' ? [] : dueAlerts([alertStateOf(view)], rules, now)
        if (decision === null && alerts.length === 0) continue
        mustJudge++
        assert.ok(
          judged.has(record.id),
          `${view.name} (${view.status}, ${decision?.to ?? 'no change'}, ${alerts.length} alerts) was not judged`,
        )
      }
      assert.ok(mustJudge > 20, `the random users exercise the rules (${mustJudge} needed judging)`)
      assert.ok(judged.size < 300, 'and not everyone is judged')
      await db.destroy()
    })
  }
})
