import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {appliedUsers, nodeDifference, recordAppliedUsers} from '../../src/lib/db/node-users-repository.js'
import {insertNode} from '../../src/lib/db/nodes-repository.js'
import {addUser, setUserStatus} from '../../src/lib/users/user-service.js'
import {contextAt, memoryDb} from '../support/memory-db.js'
import {insertV2rayNode} from '../support/test-nodes.js'

describe('node membership', () => {
  const may10 = contextAt('2024-05-10T12:00:00Z')

  it('records exactly the names the last sync put on the node, whatever another sync recorded meanwhile', async () => {
    const db = await memoryDb()
    const node = await insertV2rayNode(db, 'n1', 0)
    await recordAppliedUsers(db, node.id, new Set(['alice']), 1)
    // Two syncs read {alice} and both reach the node; the one recorded last is what the node now carries.
    await recordAppliedUsers(db, node.id, new Set(['alice', 'bob']), 2)
    await recordAppliedUsers(db, node.id, new Set(['alice', 'bob', 'carol']), 3)
    assert.deepEqual([...(await appliedUsers(db, node.id))].sort(), ['alice', 'bob', 'carol'])
    await recordAppliedUsers(db, node.id, new Set(['bob']), 4)
    assert.deepEqual([...(await appliedUsers(db, node.id))], ['bob'])
    await db.destroy()
  })

  it('tells who a node lacks and who it carries too many, in SQL', async () => {
    const db = await memoryDb()
    const node = await insertV2rayNode(db, 'n1', 0)
    for (const name of ['alice', 'bob', 'carol']) await addUser(db, {name}, may10)
    await recordAppliedUsers(db, node.id, new Set(['alice', 'bob', 'gone']), 1)
    assert.deepEqual(await nodeDifference(db, node.id), {missing: ['carol'], surplus: ['gone']})
    await setUserStatus(db, 'bob', 'disabled', null, may10)
    const difference = await nodeDifference(db, node.id)
    assert.deepEqual([difference.missing, difference.surplus.sort()], [['carol'], ['bob', 'gone']])
    await db.destroy()
  })

  it('finds no difference only when the sets are equal: as many names on each side is not enough', async () => {
    const db = await memoryDb()
    const node = await insertV2rayNode(db, 'n1', 0)
    const other = await insertNode(db, {
      name: 'n2',
      type: 'v2ray',
      api: '127.0.0.1:2',
      config_path: null,
      inbounds: null,
      apply_command: null,
      created_at: 0,
      last_pull_at: null,
      last_error: null,
    })
    for (const name of ['alice', 'bob']) await addUser(db, {name}, may10)
    await recordAppliedUsers(db, other.id, new Set(['alice', 'bob', 'zed']), 1)
    await recordAppliedUsers(db, node.id, new Set(['alice', 'bob']), 1)
    assert.deepEqual(await nodeDifference(db, node.id), {missing: [], surplus: []})
    await recordAppliedUsers(db, node.id, new Set(['alice', 'zed']), 2)
    assert.deepEqual(await nodeDifference(db, node.id), {missing: ['bob'], surplus: ['zed']})
    await db.destroy()
  })
})
