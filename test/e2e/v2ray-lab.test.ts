import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {DownloadRefusedError, startLab, v2ctlAvailable, v2rayAvailable} from '../../scripts/lab/v2ray-lab.js'

const MiB = 1024 * 1024
const downlink = (name: string): string => `user>>>${name}>>>traffic>>>downlink`

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw error
  }
}

interface VmessClient {
  id: string
  email: string
}
interface ServerConfigShape {
  inbounds: {tag: string; settings?: {clients?: VmessClient[]}}[]
}

test(
  'v2ray lab carries per-user traffic, enforces a removed user after restart, and cleans up',
  {timeout: 90_000},
  async (t) => {
    if (!v2rayAvailable() || !v2ctlAvailable()) {
      const missing = v2rayAvailable() ? 'v2ctl' : 'v2ray'
      if (process.env.CI !== undefined) assert.fail(`${missing} is not installed, and CI needs the e2e lab`)
      t.skip(`${missing} not installed`)
      return
    }

    const dir = await mkdtemp(join(tmpdir(), 'sbq-v2ray-lab-'))
    const alice = {name: 'alice', uuid: randomUUID()}
    const bob = {name: 'bob', uuid: randomUUID()}
    const startedAt = Date.now()
    const lab = await startLab({dir, users: [alice, bob], handshakeSeconds: 1})
    t.after(async () => {
      await lab.stop()
      await rm(dir, {recursive: true, force: true})
    })
    t.diagnostic(`lab up in ${Date.now() - startedAt} ms (api ${lab.apiAddress})`)
    const pids = [lab.serverPid, lab.clientPid]

    await t.test('each user downloads through their own socks port', async () => {
      assert.equal(await lab.download(alice.name, 1 * MiB), 1 * MiB)
      assert.equal(await lab.download(bob.name, 3 * MiB), 3 * MiB)
    })

    await t.test("v2ctl reports each user's downlink, separately", async () => {
      const stats = await lab.queryStats()
      const aliceDown = stats.get(downlink(alice.name))
      const bobDown = stats.get(downlink(bob.name))
      assert.ok(aliceDown !== undefined && bobDown !== undefined, `missing user counters in ${[...stats.keys()]}`)
      assert.ok(aliceDown >= 1 * MiB, `alice downlink ${aliceDown}`)
      assert.ok(bobDown >= 3 * MiB, `bob downlink ${bobDown}`)
      // Protocol overhead is small; anything near the other user's payload would mean traffic is misattributed.
      assert.ok(aliceDown < 1.1 * MiB, `alice downlink ${aliceDown} includes more than her own download`)
      assert.ok(bobDown < 3.1 * MiB, `bob downlink ${bobDown} includes more than his own download`)
      assert.ok((stats.get(`user>>>${alice.name}>>>traffic>>>uplink`) ?? 0) > 0, 'alice uplink counted')
    })

    await t.test('a user dropped from the config is refused after restart; the other still works', async () => {
      const config = JSON.parse(await readFile(lab.serverConfigPath, 'utf8')) as ServerConfigShape
      const vmess = config.inbounds.find((inbound) => inbound.tag === lab.vmessInboundTag)
      assert.ok(vmess?.settings?.clients !== undefined, 'server config has the vmess inbound')
      vmess.settings.clients = vmess.settings.clients.filter((client) => client.email !== bob.name)
      await writeFile(lab.serverConfigPath, JSON.stringify(config, null, 2))

      const oldServerPid = lab.serverPid
      await lab.restartServer()
      assert.notEqual(lab.serverPid, oldServerPid)
      assert.equal(isAlive(oldServerPid), false, 'the old server process is gone')
      pids.push(lab.serverPid)

      const statsAfterRestart = await lab.queryStats('user>>>')
      assert.equal(statsAfterRestart.get(downlink(alice.name)) ?? 0, 0, 'counters restart at 0')

      const refusedAt = Date.now()
      await assert.rejects(lab.download(bob.name, 64 * 1024), DownloadRefusedError)
      const refusalMs = Date.now() - refusedAt
      t.diagnostic(`bob refused after ${refusalMs} ms`)
      assert.ok(refusalMs < 6000, `refusal took ${refusalMs} ms`)

      assert.equal(await lab.download(alice.name, 512 * 1024), 512 * 1024)
      const stats = await lab.queryStats('user>>>')
      assert.ok((stats.get(downlink(alice.name)) ?? 0) >= 512 * 1024)
      assert.ok((stats.get(downlink(bob.name)) ?? 0) < 64 * 1024, 'bob got no payload through')
    })

    await t.test('stop() leaves no v2ray process behind', async () => {
      await lab.stop()
      for (const pid of pids) assert.equal(isAlive(pid), false, `v2ray pid ${pid} still running`)
      await lab.stop()
    })
  },
)
