/**
 * `npm run demo`: sbq's main job, for real, on this machine. A V2Ray server and client run on 127.0.0.1 in a temp
 * directory; two users get tiny quotas; real traffic goes through the proxy; `sbq check` cuts off the user who went
 * over while the other keeps working. Everything it starts is stopped at the end.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {sbqBin} from '../test/support/paths.js'
import {DownloadRefusedError, startLab, v2rayAvailable} from './lab/v2ray-lab.js'

const MiB = 1024 * 1024

const bold =
  process.stdout.isTTY && process.env.NO_COLOR === undefined
    ? (text: string) => `\u001b[1m${text}\u001b[0m`
    : (text: string) => text

function say(text: string): void {
  process.stdout.write(`\n${bold(`== ${text}`)}\n`)
}

function ensureV2ray(): void {
  if (v2rayAvailable()) return
  if (process.getuid?.() !== 0) {
    console.error('the demo needs V2Ray: run `sudo apt-get install -y v2ray`, then `npm run demo` again')
    process.exit(1)
  }
  say("V2Ray is not installed: installing Debian's v2ray package (apt-get install -y v2ray)")
  execFileSync('apt-get', ['update', '-qq'], {stdio: 'inherit'})
  execFileSync('apt-get', ['install', '-y', '-qq', 'v2ray'], {
    stdio: 'inherit',
    env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'},
  })
}

async function main(): Promise<void> {
  ensureV2ray()
  const dir = mkdtempSync(join(tmpdir(), 'sbq-demo-'))
  const db = join(dir, 'sbq.db')
  const alice = {name: 'alice', uuid: randomUUID()}
  const bob = {name: 'bob', uuid: randomUUID()}
  say(`starting a V2Ray server and client on 127.0.0.1 (files in ${dir})`)
  const lab = await startLab({dir, users: [alice, bob]})
  const sbq = (...args: string[]) => {
    process.stdout.write(`\n$ sbq ${args.join(' ')}\n`)
    const result = spawnSync(sbqBin, args, {stdio: 'inherit', env: {...process.env, SBQ_DB: db}})
    return result.status
  }
  const download = async (user: string, bytes: number) => {
    try {
      await lab.download(user, bytes)
      console.log(`${user} downloaded ${bytes / MiB} MiB through the proxy`)
      return true
    } catch (error) {
      if (!(error instanceof DownloadRefusedError)) throw error
      console.log(`${user}'s download was refused by the proxy`)
      return false
    }
  }
  try {
    sbq('user', 'add', 'alice', '--monthly', '2M', '--uuid', alice.uuid, '--no-apply')
    sbq('user', 'add', 'bob', '--monthly', '50M', '--uuid', bob.uuid, '--no-apply')
    sbq(
      'node',
      'add',
      'demo',
      '--type',
      'v2ray',
      '--api',
      lab.apiAddress,
      '--config',
      lab.serverConfigPath,
      '--apply',
      'true',
    )
    sbq('check')
    say('traffic: alice fetches 3 MiB (over her 2 MiB quota), bob 1 MiB')
    await download('alice', 3 * MiB)
    await download('bob', 1 * MiB)
    say('the cron job: pull the counters, enforce the quotas')
    sbq('check')
    say('alice is off the proxy (removed live, no restart); bob is not')
    const aliceWorks = await download('alice', 256 * 1024)
    const bobWorks = await download('bob', 1 * MiB)
    sbq('user', 'list')
    sbq('report')
    if (aliceWorks || !bobWorks) throw new Error('the demo expected alice cut off and bob working')
    say('done: sbq counted real traffic and enforced the quota')
  } finally {
    await lab.stop()
    rmSync(dir, {recursive: true, force: true})
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
