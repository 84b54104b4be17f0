/**
 * Whether a sing-box reload took, against the emulated sing-box (test/support/sing-box-emulator.ts): a refused config
 * keeps the old instance (uptime and counters run on), a good one builds a new instance (uptime from 0, no counters).
 */
import assert from 'node:assert/strict'
import {copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {after, before, describe, it} from 'node:test'
import {execFileSync} from 'node:child_process'
import {
  confirmReload,
  readSettledUptime,
  oldInstanceFloor,
  readUptime,
} from '../../src/lib/proxies/sing-box/reload-check.js'
import {createV2rayApi} from '../../src/lib/proxies/shared/v2ray-api/index.js'
import {SingBoxEmulator} from '../support/sing-box-emulator.js'
import {fixturesDir} from '../support/paths.js'

describe('oldInstanceFloor: the least uptime the instance from before the reload can show', () => {
  it('counts on from the reading before, in whole seconds', () => {
    assert.equal(oldInstanceFloor({seconds: 7, receivedAt: 1000}, 1200, 1999), 7)
    assert.equal(oldInstanceFloor({seconds: 7, receivedAt: 1000}, 1200, 3000), 9)
  })
  it('without a reading, an instance older than the apply shows at least the seconds since it began', () => {
    assert.equal(oldInstanceFloor(null, 1000, 1999), 0)
    assert.equal(oldInstanceFloor(null, 1000, 3500), 2)
    assert.equal(oldInstanceFloor({seconds: 0, receivedAt: 900}, 1000, 3500), 2)
  })
})

describe('confirmReload against the emulated sing-box', () => {
  let dir: string
  let configPath: string
  let singBox: SingBoxEmulator
  const open = async (timeoutMs?: number) => createV2rayApi({flavor: 'sing-box', address: singBox.address, timeoutMs})

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sbq-sing-box-reload-'))
    configPath = join(dir, 'config.json')
    copyFileSync(join(fixturesDir, 'sing-box-config.json'), configPath)
    singBox = await SingBoxEmulator.start({configPath, uptimeSeconds: 100})
  })

  after(async () => {
    await singBox.close()
    rmSync(dir, {recursive: true, force: true})
  })

  // How many uptime reads a confirmation took: each poll opens the API once. Counting polls rather than timing them
  // shows "told apart at the first answer" the same on a loaded machine, where every poll is late.
  let polls = 0
  const polled = async (timeoutMs?: number) => {
    polls++
    return open(timeoutMs)
  }

  const reloadAndConfirm = async (withinMs: number) => {
    const before = await readUptime(open)
    const applyStartedAt = performance.now()
    execFileSync('/bin/sh', ['-c', singBox.reloadCommand])
    polls = 0
    return confirmReload({
      command: 'systemctl reload sing-box',
      before,
      applyStartedAt,
      validated: false,
      open: polled,
      withinMs,
    })
  }

  it('a good config: a new instance, uptime from 0 and no counters, confirmed at once', async () => {
    singBox.addTraffic('alice', 10, 20)
    assert.deepEqual(await reloadAndConfirm(5000), {took: true})
    assert.equal(polls, 1, 'an old instance of 100 s is told from a new one at the first answer')
    assert.equal(singBox.instances, 2)
    assert.deepEqual([...singBox.api.counterValues().keys()], [])
  })

  it('a refused config: the old instance runs on, counters too, and the reload is reported as not taken', async () => {
    singBox.api.uptimeSeconds = 100
    singBox.addTraffic('alice', 10, 20)
    const good = readFileSync(configPath, 'utf8')
    writeFileSync(configPath, good.replace('"inbounds": [', '"inbounds": [{"type": "bogus", "tag": "x"},'))
    try {
      const confirmation = await reloadAndConfirm(1500)
      assert.equal(confirmation.took, false)
      assert.match(
        (confirmation as {reason: string}).reason,
        /^sing-box refused the new config on "systemctl reload sing-box" and kept the old one \(its v2ray_api uptime did not start again within 1.5s\)$/,
      )
      assert.match((confirmation as {hint: string}).hint, /journalctl -u sing-box; put sing-box on sbq's PATH/)
      assert.equal(singBox.instances, 2)
      assert.equal(singBox.api.counter('user>>>alice>>>traffic>>>downlink'), 20)
      assert.ok(singBox.api.uptimeSeconds >= 101)
      assert.match(singBox.log.at(-1)!, /^ERROR reload service: .*unknown inbound type: bogus$/)
    } finally {
      writeFileSync(configPath, good)
    }
  })

  it('a new instance of a node that had just started is still told apart, once a whole second has passed', async () => {
    singBox.api.uptimeSeconds = 0
    assert.deepEqual(await reloadAndConfirm(5000), {took: true})
    // Polls every 250 ms. Both read 0 at first; the old instance must then read at least 1, the new one reads 1 once
    // it is a second old too, so they are told apart within two whole seconds (at most 9 polls on a quiet machine,
    // fewer when polls are late), never after the 20 of the whole window.
    assert.ok(polls >= 2 && polls <= 12, `${polls} polls`)
  })

  it('reloads seconds apart (a script adding users one by one): the young instance settles first, then each new one is told apart at once', async () => {
    for (let round = 0; round < 3; round++) {
      const before = await readSettledUptime(open)
      assert.ok(before !== null && before.seconds >= 2, `round ${round}: settled at ${before?.seconds}`)
      const applyStartedAt = performance.now()
      execFileSync('/bin/sh', ['-c', singBox.reloadCommand])
      polls = 0
      const watch = {command: 'systemctl reload sing-box', before, applyStartedAt, validated: false, open: polled}
      assert.deepEqual(await confirmReload({...watch, withinMs: 5000}), {took: true})
      assert.equal(polls, 1, `round ${round}: told apart at the first answer, without waiting out a second`)
    }
  })

  it('an API that stops answering: reported as no answer, with the last error', async () => {
    singBox.api.mode = 'silent'
    try {
      const confirmation = await confirmReload({
        command: 'systemctl reload sing-box',
        before: {seconds: 50, receivedAt: performance.now()},
        applyStartedAt: performance.now(),
        validated: true,
        open: (timeoutMs) => open(Math.min(timeoutMs ?? 300, 300)),
        withinMs: 1000,
      })
      assert.equal(confirmation.took, false)
      assert.match(
        (confirmation as {reason: string}).reason,
        /^sing-box did not answer on its v2ray_api within 1s after "systemctl reload sing-box" \(.*did not answer/,
      )
    } finally {
      singBox.api.mode = 'serve'
    }
  })

  it("a build without with_v2ray_api refuses a config with a v2ray_api listener, as upstream's stub does", async () => {
    await assert.rejects(
      SingBoxEmulator.start({configPath, tags: ['with_quic']}),
      /v2ray api is not included in this build, rebuild with -tags with_v2ray_api/,
    )
  })
})
