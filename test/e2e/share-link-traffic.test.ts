import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {test} from 'node:test'

import {freeLoopbackPorts, LOOPBACK} from '../../scripts/lab/loopback-ports.js'
import {DownloadRefusedError, socksHttpDownload} from '../../scripts/lab/socks-download.js'
import {startLab, v2ctlAvailable, v2rayAvailable} from '../../scripts/lab/v2ray-lab.js'
import {startV2ray, type V2rayProcess} from '../../scripts/lab/v2ray-process.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {parseShareLink, v2rayClientConfig} from '../support/share-link-parser.js'

const MiB = 1024 * 1024

test(
  "the vmess and vless links sbq prints carry a user's traffic through a real V2Ray, and stop once sbq check limits them",
  {timeout: 180_000},
  async (t) => {
    if (!v2rayAvailable() || !v2ctlAvailable()) {
      if (process.env.CI !== undefined) assert.fail('v2ray is not installed, and CI must run the real-proxy test')
      t.skip('v2ray not installed')
      return
    }
    const workspace = tempWorkspace('sbq-link-traffic-')
    const alice = {name: 'alice', uuid: randomUUID()}
    const bob = {name: 'bob', uuid: randomUUID()}
    const lab = await startLab({dir: workspace.dir, users: [alice, bob]})
    const clients: V2rayProcess[] = []
    t.after(async () => {
      await Promise.allSettled(clients.map((client) => client.stop()))
      await lab.stop()
      workspace.cleanup()
    })

    // The lab serves vmess; a vless inbound beside it, as an operator's config would have.
    const [vlessPort] = await freeLoopbackPorts(1)
    const server = JSON.parse(await readFile(lab.serverConfigPath, 'utf8')) as {inbounds: object[]}
    server.inbounds.push({
      tag: 'vless-in',
      listen: LOOPBACK,
      port: vlessPort,
      protocol: 'vless',
      settings: {
        decryption: 'none',
        clients: [alice, bob].map((user) => ({id: user.uuid, email: user.name, level: 0})),
      },
    })
    await writeFile(lab.serverConfigPath, `${JSON.stringify(server, null, 2)}\n`)
    await lab.restartServer()

    const may = {SBQ_NOW: '2024-05-20T12:00:00Z'}
    const sbq = async (...args: string[]) => {
      const result = await runSbq([...args, '--json'], {db: workspace.db, env: may})
      assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
      return result.json
    }
    await sbq('config', 'set', 'timezone', 'UTC')
    await sbq('user', 'add', 'alice', '--uuid', alice.uuid, '--monthly', '1M', '--no-apply')
    await sbq('user', 'add', 'bob', '--uuid', bob.uuid, '--monthly', '100M', '--no-apply')
    await sbq('node', 'add', 'lab', '--type', 'v2ray', '--api', lab.apiAddress, '--config', lab.serverConfigPath)
    await sbq('node', 'set', 'lab', '--public-host', LOOPBACK)
    assert.deepEqual((await sbq('check')).changes, [])

    /** A V2Ray client per link the user has, and a download through the one for an inbound. */
    const clientsOf = async (user: string) => {
      const printed = (await sbq('user', 'link', user)).nodes[0].links as Array<{tag: string; link: string}>
      const throughLink = new Map<string, number>()
      for (const entry of printed) {
        const [socksPort] = await freeLoopbackPorts(1)
        const configPath = join(workspace.dir, `client-${user}-${entry.tag}.json`)
        await writeFile(configPath, JSON.stringify(v2rayClientConfig(parseShareLink(entry.link), socksPort!)))
        clients.push(await startV2ray(configPath))
        throughLink.set(entry.tag, socksPort!)
      }
      const download = (tag: string, bytes: number) =>
        socksHttpDownload({
          socksPort: throughLink.get(tag)!,
          host: LOOPBACK,
          port: lab.httpPort,
          path: `/bytes/${bytes}`,
          idleTimeoutMs: 4000,
          totalTimeoutMs: 30_000,
        })
      return {tags: printed.map((entry) => entry.tag).sort(), download}
    }

    const {tags, download} = await clientsOf('alice')
    assert.deepEqual(tags, ['vless-in', 'vmess-in'])
    assert.equal(await download('vmess-in', 256 * 1024), 256 * 1024, "alice's vmess link works")
    assert.equal(await download('vless-in', 2 * MiB), 2 * MiB, "alice's vless link works, and takes her over quota")

    const check = await sbq('check')
    assert.deepEqual(
      check.changes.map((change: {user: string; to: string}) => [change.user, change.to]),
      [['alice', 'limited']],
    )
    assert.equal(check.nodes[0].error, null)
    await assert.rejects(download('vmess-in', 64 * 1024), DownloadRefusedError, 'the vmess link no longer works')
    await assert.rejects(download('vless-in', 64 * 1024), DownloadRefusedError, 'the vless link no longer works')
    assert.equal(await lab.download('bob', 64 * 1024), 64 * 1024, 'bob still works')

    // An inbound choice: bob on vless only. The running V2Ray takes him off vmess at once and the config follows.
    const bobs = await clientsOf('bob')
    assert.equal(await bobs.download('vmess-in', 64 * 1024), 64 * 1024, "bob's vmess link works")
    const chosen = await sbq('quota', 'set', 'bob', '--inbounds', 'vless-in')
    assert.deepEqual([chosen.inbounds, chosen.nodes[0].error], [['vless-in'], null])
    await assert.rejects(bobs.download('vmess-in', 64 * 1024), DownloadRefusedError, 'off the inbound he was not given')
    assert.equal(await bobs.download('vless-in', 64 * 1024), 64 * 1024, 'still on the one he was given')
    const written = JSON.parse(await readFile(lab.serverConfigPath, 'utf8')) as {
      inbounds: Array<{tag: string; settings: {clients?: Array<{email: string}>}}>
    }
    const emails = (tag: string) =>
      written.inbounds.find((inbound) => inbound.tag === tag)!.settings.clients!.map((c) => c.email)
    assert.deepEqual([emails('vmess-in').includes('bob'), emails('vless-in').includes('bob')], [false, true])
    assert.deepEqual(
      (await sbq('user', 'link', 'bob')).nodes[0].links.map((entry: {tag: string}) => entry.tag),
      ['vless-in'],
      'his links follow the choice',
    )
    await sbq('quota', 'set', 'bob', '--inbounds', 'all')
    assert.equal(await bobs.download('vmess-in', 64 * 1024), 64 * 1024, 'back on every inbound')
  },
)
