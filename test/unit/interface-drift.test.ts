import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'

import {sampleInterface, type InterfaceSample} from '../../src/lib/accounting/drift.js'
import {recordPull} from '../../src/lib/accounting/ledger.js'
import {setNodeInterface} from '../../src/lib/db/interface-drift-repository.js'
import type {Db} from '../../src/lib/db/open-database.js'
import type {NodeRow} from '../../src/lib/db/schema.js'
import {driftRatioPercent, interfaceBytesSince, judgeDrift} from '../../src/lib/domain/interface-drift.js'
import {SbqError} from '../../src/lib/errors.js'
import {readInterfaceCounters} from '../../src/lib/nodes/host-interface.js'
import {renderMetrics} from '../../src/lib/serve/metrics-text.js'
import {collectMetrics} from '../../src/lib/serve/metrics.js'
import {setSetting} from '../../src/lib/settings/settings.js'
import {addUser} from '../../src/lib/users/user-service.js'
import {contextAt, memoryDb} from '../support/memory-db.js'
import {insertV2rayNode} from '../support/test-nodes.js'

const GiB = 1024 ** 3

describe('interfaceBytesSince (pure)', () => {
  it('is nothing without a last reading: a first reading is only a start', () => {
    assert.equal(interfaceBytesSince(null, {rx: 5000, tx: 7000}), 0)
  })

  it('adds both directions since the last reading', () => {
    assert.equal(interfaceBytesSince({rx: 1000, tx: 2000}, {rx: 1500, tx: 2700}), 1200)
  })

  it('takes a counter that went down as reset (reboot, wrap): its value now is what it carried since, never negative', () => {
    assert.equal(interfaceBytesSince({rx: 9000, tx: 9000}, {rx: 300, tx: 9100}), 300 + 100)
    assert.equal(interfaceBytesSince({rx: 2 ** 32 - 10, tx: 2 ** 32 - 10}, {rx: 0, tx: 0}), 0)
  })
})

describe('judgeDrift (pure)', () => {
  const on = (thresholdPercent: number, minInterfaceBytes = 0) => ({thresholdPercent, minInterfaceBytes})

  it('compares the counted bytes with half the interface bytes', () => {
    // A pure proxy host counting everything: the interface carried each byte twice.
    assert.deepEqual(judgeDrift({interfaceBytes: 20 * GiB, countedBytes: 10 * GiB}, on(50)), {
      ratioPercent: 100,
      judged: true,
      drifting: false,
    })
    assert.deepEqual(judgeDrift({interfaceBytes: 20 * GiB, countedBytes: 1 * GiB}, on(50)), {
      ratioPercent: 10,
      judged: true,
      drifting: true,
    })
  })

  it('is not drifting exactly at the threshold, and is one byte under it', () => {
    // 50% of half of 4000 is 1000.
    assert.equal(judgeDrift({interfaceBytes: 4000, countedBytes: 1000}, on(50)).drifting, false)
    assert.equal(judgeDrift({interfaceBytes: 4000, countedBytes: 999}, on(50)).drifting, true)
    assert.equal(judgeDrift({interfaceBytes: 4000, countedBytes: 999}, on(50)).ratioPercent, 49, 'rounded down')
  })

  it('judges nothing while drift-threshold is off, or below the minimum volume', () => {
    const tiny = {interfaceBytes: 10 * 1024 * 1024, countedBytes: 0}
    assert.deepEqual(judgeDrift(tiny, {thresholdPercent: null, minInterfaceBytes: 0}), {
      ratioPercent: 0,
      judged: false,
      drifting: false,
    })
    assert.deepEqual(judgeDrift(tiny, on(50, GiB)), {ratioPercent: 0, judged: false, drifting: false})
    assert.equal(judgeDrift({interfaceBytes: GiB, countedBytes: 0}, on(50, GiB)).drifting, true, 'at the minimum')
  })

  it('has no ratio while the interface carried nothing, and judges nothing then', () => {
    assert.equal(driftRatioPercent({interfaceBytes: 0, countedBytes: 500}), null)
    assert.deepEqual(judgeDrift({interfaceBytes: 0, countedBytes: 0}, on(50)), {
      ratioPercent: null,
      judged: false,
      drifting: false,
    })
  })

  it('stays exact past 2^53 / 200', () => {
    const interfaceBytes = 2 ** 52 + 2
    const half = interfaceBytes / 2
    assert.equal(judgeDrift({interfaceBytes, countedBytes: half}, on(100)).drifting, false)
    assert.equal(judgeDrift({interfaceBytes, countedBytes: half - 1}, on(100)).drifting, true)
  })
})

describe('readInterfaceCounters (sysfs)', () => {
  let root: string
  const saved = process.env.SBQ_SYSFS_ROOT
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'sbq-sysfs-'))
  })
  after(() => {
    if (saved === undefined) delete process.env.SBQ_SYSFS_ROOT
    else process.env.SBQ_SYSFS_ROOT = saved
    rmSync(root, {recursive: true, force: true})
  })

  it("reads this machine's real loopback interface", () => {
    delete process.env.SBQ_SYSFS_ROOT
    const first = readInterfaceCounters('lo')
    assert.ok(Number.isSafeInteger(first.rx) && Number.isSafeInteger(first.tx), JSON.stringify(first))
    const again = readInterfaceCounters('lo')
    assert.ok(again.rx >= first.rx && again.tx >= first.tx, 'kernel counters only grow')
  })

  it('reads SBQ_SYSFS_ROOT instead of /sys, and refuses a missing interface or a path as a name', () => {
    process.env.SBQ_SYSFS_ROOT = root
    mkdirSync(join(root, 'class', 'net', 'eth0', 'statistics'), {recursive: true})
    writeFileSync(join(root, 'class', 'net', 'eth0', 'statistics', 'rx_bytes'), '123456789012\n')
    writeFileSync(join(root, 'class', 'net', 'eth0', 'statistics', 'tx_bytes'), '42\n')
    assert.deepEqual(readInterfaceCounters('eth0'), {rx: 123456789012, tx: 42})
    assert.throws(
      () => readInterfaceCounters('eth9'),
      (error: SbqError) =>
        error.code === 'INTERFACE_NOT_FOUND' && /interface "eth9" cannot be read/.test(error.message),
    )
    assert.throws(
      () => readInterfaceCounters('../../etc'),
      (error: SbqError) => error.code === 'INTERFACE_INVALID' && error.exit === 2,
    )
  })
})

describe('recordPull with a host interface (the pull transaction)', () => {
  let db: Db
  let node: NodeRow
  const may10 = contextAt('2024-05-10T12:00:00Z')
  const may11 = contextAt('2024-05-11T00:30:00Z')
  const traffic = (total: number) => ({
    counters: [{name: 'user>>>alice>>>traffic>>>downlink', value: total}],
    uptimeSeconds: null,
  })
  const reading = (rx: number, tx: number): InterfaceSample => ({name: 'eth0', counters: {rx, tx}})
  const pull = (total: number, sample: InterfaceSample | null, context = may10) =>
    recordPull(db, node, traffic(total), may10.now, context, 'process', sample)

  beforeEach(async () => {
    db = await memoryDb()
    await addUser(db, {name: 'alice', reset: {every: 'month', day: 1}}, may10)
    node = await insertV2rayNode(db, 'n1', may10.now)
    await setSetting(db, 'drift-min-bytes', '1000')
  })

  it('adds nothing at the first pull of the node or the first reading, then both sides over the same interval', async () => {
    const first = await pull(0, reading(10_000, 10_000))
    assert.deepEqual([first.baselineOnly, first.drift!.interfaceBytes, first.drift!.countedBytes], [true, 0, 0])
    const second = await pull(1000, reading(11_000, 11_000))
    assert.deepEqual(
      [second.drift!.interfaceBytes, second.drift!.countedBytes, second.drift!.ratioPercent],
      [2000, 1000, 100],
    )
    assert.equal(second.drift!.drifting, false, 'drift-threshold is off by default')
    assert.equal(second.drift!.judged, false)
  })

  it('warns once a day: the first pull that finds the day drifting, not the next ones', async () => {
    await setSetting(db, 'drift-threshold', '50')
    await pull(0, reading(0, 0))
    const found = await pull(100, reading(5000, 5000))
    assert.deepEqual([found.drift!.drifting, found.drift!.firstToday, found.drift!.ratioPercent], [true, true, 2])
    const again = await pull(200, reading(10_000, 10_000))
    assert.deepEqual([again.drift!.drifting, again.drift!.firstToday], [true, false])
    const nextDay = await pull(300, reading(15_000, 15_000), may11)
    assert.deepEqual(
      [nextDay.drift!.day, nextDay.drift!.interfaceBytes, nextDay.drift!.countedBytes, nextDay.drift!.firstToday],
      ['2024-05-11', 10_000, 100, true],
      'a new day starts from its own figures',
    )
  })

  it('takes a counter that went backwards as a reboot: no negative bytes, no false alarm', async () => {
    await setSetting(db, 'drift-threshold', '50')
    await pull(0, reading(1_000_000, 1_000_000))
    const after = await pull(600, reading(500, 500))
    assert.deepEqual(
      [after.drift!.interfaceBytes, after.drift!.countedBytes, after.drift!.drifting],
      [1000, 600, false],
    )
  })

  it('goes on billing when the interface cannot be read, and starts the interface afresh after', async () => {
    await setSetting(db, 'drift-threshold', '50')
    await pull(0, reading(0, 0))
    const missing = await pull(5000, {name: 'eth0', error: 'interface "eth0" cannot be read on this host: ENOENT'})
    assert.deepEqual(
      [missing.down, missing.drift!.error, missing.drift!.interfaceBytes],
      [5000, 'interface "eth0" cannot be read on this host: ENOENT', 0],
    )
    // Had the reading been kept, 1 GB of interface bytes would now stand against 1000 counted bytes.
    const back = await pull(6000, reading(500_000_000, 500_000_000))
    assert.deepEqual([back.drift!.interfaceBytes, back.drift!.countedBytes, back.drift!.drifting], [0, 0, false])
    const next = await pull(8000, reading(500_001_000, 500_001_000))
    assert.deepEqual([next.drift!.interfaceBytes, next.drift!.countedBytes, next.drift!.drifting], [2000, 2000, false])
  })

  it("shows the interface's counters at the last pull on /metrics, beside the node's counted bytes", async () => {
    await setNodeInterface(db, node.id, 'eth0')
    await pull(0, reading(0, 0))
    await pull(100, reading(7000, 9000))
    const metrics = renderMetrics(await collectMetrics(db, may10))
    assert.match(metrics, /^sbq_node_interface_bytes_total\{node="n1",interface="eth0",direction="rx"\} 7000$/m)
    assert.match(metrics, /^sbq_node_interface_bytes_total\{node="n1",interface="eth0",direction="tx"\} 9000$/m)
    assert.match(metrics, /^sbq_node_bytes_total\{node="n1",direction="down"\} 100$/m)
  })

  it('records nothing for a node without an interface', async () => {
    assert.equal(sampleInterface({host_interface: null}), null)
    await pull(0, null)
    assert.equal((await pull(100, null)).drift, null)
    assert.deepEqual(await db.selectFrom('interface_daily').selectAll().execute(), [])
  })
})
