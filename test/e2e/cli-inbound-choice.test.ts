import assert from 'node:assert/strict'
import {copyFileSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {assertJsonError} from '../support/assertions.js'
import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

const tags = ['vmess-in', 'vless-in', 'trojan-in']

describe('which inbounds a user gets: --inbounds on users and plans (stub V2Ray API, real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-inbounds-')
  const configPath = join(workspace.dir, 'v2ray.json')
  const run = (...args: string[]) => runSbq([...args, '--json'], {db: workspace.db})
  const sbq = async (...args: string[]) => {
    const result = await run(...args)
    assert.equal(result.code, 0, `sbq ${args.join(' ')}: ${result.stderr}`)
    return result.json
  }
  let stub: StubV2rayApi

  /** Where a user is, in the running proxy and in its config file: the two must agree. */
  const placesOf = (name: string) => {
    const live = tags.filter((tag) => stub.inbounds.get(tag)?.has(name))
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
      inbounds: Array<{tag: string; settings?: {clients?: Array<{email: string}>}}>
    }
    const written = tags.filter((tag) =>
      config.inbounds.find((inbound) => inbound.tag === tag)?.settings?.clients?.some((c) => c.email === name),
    )
    assert.deepEqual(live, written, `${name}: the running proxy holds what its config holds`)
    return live
  }

  before(async () => {
    copyFileSync(join(fixturesDir, 'v2ray-config.json'), configPath)
    stub = await StubV2rayApi.start({flavor: 'v2ray', inboundTags: tags})
    await sbq('node', 'add', 'v1', '--type', 'v2ray', '--api', stub.address, '--config', configPath, '--apply', 'true')
    await sbq('node', 'set', 'v1', '--public-host', 'vpn.example.com')
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('puts a user who names inbounds on those only, and their links follow', async () => {
    const alice = await sbq('user', 'add', 'alice', '--inbounds', 'vless-in')
    assert.deepEqual(alice.inbounds, ['vless-in'])
    assert.deepEqual(placesOf('alice'), ['vless-in'])
    const links = await sbq('user', 'link', 'alice')
    assert.deepEqual(
      links.nodes[0].links.map((entry: {tag: string}) => entry.tag),
      ['vless-in'],
    )
    const shown = await runSbq(['user', 'show', 'alice'], {db: workspace.db})
    assert.match(shown.stdout, /^inbounds\s+vless-in$/m)
  })

  it('refuses a tag no node manages, and a value that is no list of tags, in one line, creating nobody', async () => {
    const unknown = await run('user', 'add', 'bob', '--inbounds', 'vless-in,vles-in')
    assertJsonError(unknown, 2, 'INBOUND_NOT_FOUND', /inbound "vles-in" is not managed on any node/)
    assert.match(unknown.json.error.hint, /trojan-in, vless-in, vmess-in/)
    assertJsonError(
      await run('user', 'add', 'bob', '--inbounds', 'vless-in trojan-in'),
      2,
      'INBOUNDS_INVALID',
      /"vless-in trojan-in"/,
    )
    const plain = await runSbq(['quota', 'set', 'alice', '--inbounds', ','], {db: workspace.db})
    assert.equal(plain.code, 2)
    assert.equal(plain.stderr.trim().split('\n').length, 1, plain.stderr)
    assert.equal((await run('user', 'show', 'bob')).code, 3, 'bob was not created')
    assert.deepEqual(placesOf('alice'), ['vless-in'], 'alice kept what she had')
  })

  it("gives a plan's users the plan's inbounds, and moves them when the plan changes", async () => {
    const plan = await sbq('plan', 'add', 'trojan-only', '--monthly', '10', '--inbounds', 'trojan-in')
    assert.deepEqual(plan.inbounds, ['trojan-in'])
    await sbq('user', 'add', 'dan', '--plan', 'trojan-only')
    assert.deepEqual(placesOf('dan'), ['trojan-in'])
    const set = await sbq('plan', 'set', 'trojan-only', '--inbounds', 'vmess-in,trojan-in')
    assert.deepEqual(
      set.nodes.map((node: {name: string; error: string | null}) => [node.name, node.error]),
      [['v1', null]],
    )
    assert.deepEqual(placesOf('dan'), ['vmess-in', 'trojan-in'])
    assert.deepEqual(placesOf('alice'), ['vless-in'], 'a user with a choice of her own is not moved by a plan')
    const list = await runSbq(['plan', 'list'], {db: workspace.db})
    assert.match(list.stdout, /trojan-only .*trojan-in, vmess-in/)
  })

  it("lets a user override the plan's choice with all, and go back to the plan's with plan", async () => {
    assert.equal((await sbq('quota', 'set', 'dan', '--inbounds', 'all')).inbounds, null)
    assert.deepEqual(placesOf('dan'), tags)
    assert.deepEqual((await sbq('quota', 'set', 'dan', '--inbounds', 'plan')).inbounds, ['trojan-in', 'vmess-in'])
    assert.deepEqual(placesOf('dan'), ['vmess-in', 'trojan-in'])
  })

  it('takes a user off every inbound when the plan they join in the same command leaves them over quota', async () => {
    await sbq('user', 'add', 'erin', '--monthly', '100M')
    stub.setCounter('user>>>erin>>>traffic>>>downlink', 0)
    await sbq('stats', 'pull')
    stub.setCounter('user>>>erin>>>traffic>>>downlink', 50 * 1024 * 1024)
    await sbq('stats', 'pull')
    assert.deepEqual(placesOf('erin'), tags)
    await sbq('plan', 'add', 'tiny', '--monthly', '10M', '--inbounds', 'vless-in')
    const joined = await sbq('quota', 'set', 'erin', '--plan', 'tiny')
    assert.equal(joined.status, 'limited')
    assert.deepEqual(placesOf('erin'), [], 'limited: on no inbound, not left where she was')
  })

  it('moves a plan changed with --no-apply at the next check, and takes off a follower disabled meanwhile', async () => {
    await sbq('plan', 'set', 'trojan-only', '--inbounds', 'vless-in', '--no-apply')
    assert.deepEqual(placesOf('dan'), ['vmess-in', 'trojan-in'], 'nothing moved yet')
    await sbq('user', 'add', 'fred', '--plan', 'trojan-only', '--no-apply')
    await sbq('user', 'disable', 'dan', '--no-apply')
    await sbq('check')
    assert.deepEqual(placesOf('dan'), [], 'disabled before the push: off everywhere')
    assert.deepEqual(placesOf('fred'), ['vless-in'])
    await sbq('user', 'enable', 'dan')
    assert.deepEqual(placesOf('dan'), ['vless-in'])
  })

  it('takes a limited user off every inbound and puts them back on the chosen ones only', async () => {
    await sbq('user', 'disable', 'alice')
    assert.deepEqual(placesOf('alice'), [])
    await sbq('user', 'enable', 'alice')
    assert.deepEqual(placesOf('alice'), ['vless-in'])
    const check = await sbq('check')
    assert.deepEqual(
      check.nodes.map((node: {method: string}) => node.method),
      ['none'],
      'a check with nothing new changes nothing',
    )
  })
})
