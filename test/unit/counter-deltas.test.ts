import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {counterDeltas, type Baseline} from '../../src/lib/domain/counter-deltas.js'
import {CounterValues} from '../../src/lib/domain/counter-values.js'

const up = (name: string) => `user>>>${name}>>>traffic>>>uplink`
const down = (name: string) => `user>>>${name}>>>traffic>>>downlink`
const t0 = 1_700_000_000_000

function baseline(counters: Record<string, number>, uptimeSeconds: number | null = 1000, takenAt = t0): Baseline {
  const values = new CounterValues()
  for (const [name, value] of Object.entries(counters)) values.set(name, value)
  return {takenAt, uptimeSeconds, counters: values}
}

function snapshot(counters: Record<string, number>, uptimeSeconds: number | null = 1060) {
  return {counters: Object.entries(counters).map(([name, value]) => ({name, value})), uptimeSeconds}
}

describe('counterDeltas', () => {
  it('takes the first pull as the baseline and bills nothing', () => {
    const result = counterDeltas(null, snapshot({[up('alice')]: 500, [down('alice')]: 900}), t0)
    assert.equal(result.baselineOnly, true)
    assert.equal(result.users.size, 0)
    assert.deepEqual(
      [...result.next],
      [
        [up('alice'), 500],
        [down('alice'), 900],
      ],
    )
  })

  it('bills the growth since the last pull, per user and direction', () => {
    const result = counterDeltas(
      baseline({[up('alice')]: 500, [down('alice')]: 900}),
      snapshot({[up('alice')]: 700, [down('alice')]: 1900}),
      t0 + 60_000,
    )
    assert.equal(result.restarted, false)
    assert.deepEqual(result.users.get('alice'), {up: 200, down: 1000})
  })

  it('counts a name the proxy sent twice once, at its last value', () => {
    const twice = {
      counters: [
        {name: up('alice'), value: 150},
        {name: up('alice'), value: 120},
      ],
      uptimeSeconds: 1060,
    }
    const result = counterDeltas(baseline({[up('alice')]: 100}), twice, t0 + 60_000)
    assert.deepEqual(result.users.get('alice'), {up: 20, down: 0})
    assert.equal(result.next.get(up('alice')), 120)
  })

  it('bills a counter that appears in full', () => {
    const result = counterDeltas(baseline({}), snapshot({[down('bob')]: 4096}), t0 + 60_000)
    assert.deepEqual(result.users.get('bob'), {up: 0, down: 4096})
  })

  it('bills nothing for counters that did not move', () => {
    const result = counterDeltas(baseline({[up('alice')]: 5}), snapshot({[up('alice')]: 5}), t0 + 60_000)
    assert.equal(result.users.size, 0)
  })

  it('treats a counter that went down as a restart: every value is new traffic', () => {
    const result = counterDeltas(
      baseline({[up('alice')]: 5000, [up('bob')]: 10}, null),
      snapshot({[up('alice')]: 300, [up('bob')]: 20}, null),
      t0 + 60_000,
    )
    assert.equal(result.restarted, true)
    assert.deepEqual(result.users.get('alice'), {up: 300, down: 0})
    assert.deepEqual(result.users.get('bob'), {up: 20, down: 0})
  })

  it('treats an uptime shorter than the time since the last pull as a restart', () => {
    const result = counterDeltas(baseline({[up('alice')]: 100}), snapshot({[up('alice')]: 150}, 30), t0 + 60_000)
    assert.equal(result.restarted, true)
    assert.deepEqual(result.users.get('alice'), {up: 150, down: 0})
  })

  it('spots a restart soon after the last pull by the start time the uptime implies', () => {
    // Up 10 s at the last pull; 3 s later it reports 1 s: it started again in between.
    const result = counterDeltas(baseline({[up('alice')]: 100}, 10), snapshot({[up('alice')]: 150}, 1), t0 + 3000)
    assert.equal(result.restarted, true)
  })

  it('treats a vanished counter as a restart where counters live as long as the process, not where they live per user', () => {
    const previous = baseline({[up('alice')]: 100, [up('bob')]: 500}, null)
    const now = snapshot({[up('alice')]: 150}, null)
    assert.equal(counterDeltas(previous, now, t0 + 1000).restarted, true)
    const ssm = counterDeltas(previous, now, t0 + 1000, 'user')
    assert.equal(ssm.restarted, false)
    assert.deepEqual(ssm.users.get('alice'), {up: 50, down: 0})
    assert.equal(ssm.next.users.has('bob'), false, 'a user who came back later starts from 0')
  })

  it('restarts only the user whose counter went down where counters live per user (sing-box SSM)', () => {
    const previous = baseline(
      {
        [up('alice')]: 5000,
        [down('alice')]: 9000,
        [up('bob')]: 10,
        [down('bob')]: 40,
        'inbound>>>ss>>>traffic>>>uplink': 5010,
      },
      null,
    )
    const now = snapshot(
      {
        [up('alice')]: 300,
        [down('alice')]: 9500,
        [up('bob')]: 20,
        [down('bob')]: 40,
        'inbound>>>ss>>>traffic>>>uplink': 5,
      },
      null,
    )
    const result = counterDeltas(previous, now, t0 + 60_000, 'user')
    assert.equal(result.restarted, false)
    // alice's counters were dropped together and counted again from 0: both directions are new traffic.
    assert.deepEqual(result.users.get('alice'), {up: 300, down: 9500})
    assert.deepEqual(result.users.get('bob'), {up: 10, down: 0})
    const wholeNode = counterDeltas(previous, now, t0 + 60_000, 'process')
    assert.deepEqual([wholeNode.restarted, wholeNode.users.get('bob')], [true, {up: 20, down: 40}])
  })

  it('does not mistake whole-second uptime for a restart', () => {
    // Started 0.5 s before the last pull; 60.4 s later the proxy reports 60 s of uptime.
    const result = counterDeltas(baseline({[up('alice')]: 100}, 0), snapshot({[up('alice')]: 150}, 60), t0 + 60_400)
    assert.equal(result.restarted, false)
    assert.deepEqual(result.users.get('alice'), {up: 50, down: 0})
  })

  it('bills a direction that appears for a known user in full, and treats one that vanished as a restart', () => {
    const grown = counterDeltas(
      baseline({[up('alice')]: 100}),
      snapshot({[up('alice')]: 150, [down('alice')]: 70}),
      t0 + 60_000,
    )
    assert.deepEqual([grown.restarted, grown.users.get('alice')], [false, {up: 50, down: 70}])
    const lost = counterDeltas(
      baseline({[up('alice')]: 100, [down('alice')]: 70}, null),
      snapshot({[up('alice')]: 150}, null),
      t0 + 60_000,
    )
    assert.deepEqual([lost.restarted, lost.users.get('alice')], [true, {up: 150, down: 0}])
  })

  it('ignores inbound and outbound counters for users but remembers them', () => {
    const result = counterDeltas(
      baseline({}),
      snapshot({'inbound>>>vmess-in>>>traffic>>>uplink': 99, [up('a>>>b')]: 7}),
      t0 + 1000,
    )
    assert.deepEqual([...result.users.keys()], ['a>>>b'])
    assert.equal(result.next.get('inbound>>>vmess-in>>>traffic>>>uplink'), 99)
  })
})

describe('CounterValues', () => {
  it('keeps user counters per user and every other counter by name, counting each once', () => {
    const values = new CounterValues()
    values.set(up('alice'), 1)
    values.set(down('alice'), 2)
    values.set(up('alice'), 3)
    values.set(up('a>>>b'), 4)
    values.set('inbound>>>api>>>traffic>>>uplink', 5)
    values.set('user>>>>>>traffic>>>uplink', 6)
    values.set('user>>>traffic>>>uplink', 7)
    assert.equal(values.size, 6)
    assert.deepEqual(
      [values.get(up('alice')), values.get(down('alice')), values.get(down('bob')), values.get(up('a>>>b'))],
      [3, 2, undefined, 4],
    )
    assert.deepEqual([...values.users.keys()], ['alice', 'a>>>b'])
    assert.deepEqual(
      [...values],
      [
        [up('alice'), 3],
        [down('alice'), 2],
        [up('a>>>b'), 4],
        ['inbound>>>api>>>traffic>>>uplink', 5],
        ['user>>>>>>traffic>>>uplink', 6],
        ['user>>>traffic>>>uplink', 7],
      ],
    )
  })
})
