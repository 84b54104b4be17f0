import assert from 'node:assert/strict'
import {setTimeout as sleep} from 'node:timers/promises'
import {after, before, describe, it} from 'node:test'

import {runSbq, tempWorkspace, type SbqResult} from '../support/run-sbq.js'
import {startServe, type RunningServe} from '../support/run-serve.js'
import {Client, password} from '../support/web-client.js'

/**
 * Everything that writes the database at once, as on a busy server: three 3x-ui nodes informing `sbq serve`, an
 * admin on the dashboard, CLI writers and `check` runs. SQLite lets one writer in at a time; every other one must
 * wait its turn, never be refused (3x-ui never reads the status, so a refused report is traffic nobody pays for).
 */
describe('concurrency soak: serve informs, dashboard, CLI writers and check at once (real bin/sbq, real HTTP)', () => {
  const workspace = tempWorkspace('sbq-soak-')
  const env = {SBQ_NOW: '2024-05-20T12:00:00Z'}
  const sbq = async (...args: string[]) => {
    const result = await runSbq(args, {db: workspace.db, env})
    assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
    return result
  }
  const informed = ['u1', 'u2', 'u3', 'u4']
  const nodes = ['de1', 'nl1', 'fi1']
  let serve: RunningServe
  const informUri = new Map<string, string>()

  before(async () => {
    await sbq('config', 'set', 'timezone', 'UTC')
    const set = await runSbq(['admin', 'set-password', '--password-stdin'], {
      db: workspace.db,
      env,
      input: `${password}\n`,
    })
    assert.equal(set.code, 0, set.stderr)
    for (const name of [...informed, 'web1', 'web2', 'cli1', 'cli2'])
      await sbq('user', 'add', name, '--monthly', '1000G', '--no-apply')
    serve = await startServe(workspace.db, env)
    for (const node of nodes)
      informUri.set(
        node,
        (await sbq('node', 'add', node, '--type', '3x-ui', '--public-url', serve.base, '--json')).json
          .informUri as string,
      )
  })

  after(async () => {
    await serve?.stop()
    workspace.cleanup()
  })

  it('refuses no write, and the ledger holds every byte sent', async () => {
    const sent = new Map(informed.map((name) => [name, {up: 0, down: 0}]))
    const refused: string[] = []
    const cli = async (...args: string[]): Promise<SbqResult> => {
      const result = await runSbq(args, {db: workspace.db, env})
      if (result.code !== 0) refused.push(`sbq ${args.join(' ')}: exit ${result.code}: ${result.stderr.trim()}`)
      return result
    }

    const informer = async (node: string, nodeIndex: number) => {
      for (let round = 0; round < 40; round++) {
        const clientTraffics = informed.map((email, userIndex) => ({
          email,
          up: 1 + nodeIndex * 7 + round,
          down: 1000 * (userIndex + 1) + round,
        }))
        const response = await fetch(informUri.get(node)!, {
          method: 'POST',
          headers: {'content-type': 'application/json'},
          body: JSON.stringify({clientTraffics, inboundTraffics: []}),
        })
        const text = await response.text()
        if (response.status !== 200) {
          refused.push(`inform ${node} round ${round}: ${response.status} ${text.trim()}`)
          continue
        }
        for (const {email, up, down} of clientTraffics) {
          const total = sent.get(email)!
          total.up += up
          total.down += down
        }
        await sleep(20)
      }
    }

    const cliWriter = async (user: string, id: number) => {
      for (let round = 0; round < 6; round++) {
        await cli('user', 'add', `extra-${id}-${round}`, '--monthly', '5G', '--no-apply')
        await cli('quota', 'set', user, '--monthly', `${900 + round}G`, '--no-apply')
        await cli('quota', 'topup', user, '1G', '--no-apply')
      }
    }

    const checker = async () => {
      for (let round = 0; round < 8; round++) {
        await cli('check', '--quiet')
        await sleep(100)
      }
    }

    const admin = async () => {
      const client = new Client(serve.base)
      await client.logIn()
      const token = await client.token('/')
      const actions: Array<[string, Record<string, string>]> = [
        ['/users/web1/topup', {size: '1G'}],
        ['/users/web2/quota', {monthly: '800G'}],
        ['/users/web1/disable', {reason: 'soak'}],
        ['/users/web1/enable', {}],
      ]
      for (let round = 0; round < 10; round++) {
        for (const [path, form] of actions) {
          const response = await client.request(path, {form: {...form, _csrf: token}})
          await response.text()
          if (response.status !== 303) refused.push(`dashboard ${path}: ${response.status}`)
        }
      }
    }

    await Promise.all([
      ...nodes.map((node, index) => informer(node, index)),
      cliWriter('cli1', 1),
      cliWriter('cli2', 2),
      checker(),
      admin(),
    ])

    assert.deepEqual(refused, [], `refused writes:\n${refused.join('\n')}`)
    assert.doesNotMatch(serve.stderr(), /locked|busy/i)
    const users = (await sbq('user', 'list', '--json')).json as Array<{
      name: string
      periodUp: number
      periodDown: number
    }>
    const ledger = Object.fromEntries(
      users
        .filter((user) => sent.has(user.name))
        .map((user) => [user.name, {up: user.periodUp, down: user.periodDown}]),
    )
    assert.deepEqual(ledger, Object.fromEntries(sent))
    assert.equal(users.filter((user) => user.name.startsWith('extra-')).length, 12)
  })
})
