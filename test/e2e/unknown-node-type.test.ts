/**
 * A stored node whose type this sbq does not know (a newer sbq added it, or a hand edit) fails alone, like an
 * unreachable node: cron's check still judges every user and puts the other nodes in line.
 */
import assert from 'node:assert/strict'
import {copyFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {SingBoxEmulator} from '../support/sing-box-emulator.js'
import {withRawDb} from '../support/raw-database.js'

const MiB = 1024 * 1024

describe('a node of a type this sbq does not know', () => {
  const workspace = tempWorkspace('sbq-unknown-type-')
  const configPath = join(workspace.dir, 'config.json')
  const sbq = (...args: string[]) => runSbq(args, {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
  let singBox: SingBoxEmulator

  before(async () => {
    copyFileSync(join(fixturesDir, 'sing-box-config.json'), configPath)
    singBox = await SingBoxEmulator.start({configPath, uptimeSeconds: 3600})
    for (const args of [
      ['user', 'add', 'alice', '--monthly', '1M', '--no-apply'],
      ['user', 'add', 'bob', '--monthly', '100M', '--no-apply'],
      [
        'node',
        'add',
        'sb',
        '--type',
        'sing-box',
        '--api',
        singBox.address,
        '--config',
        configPath,
        '--apply',
        singBox.reloadCommand,
      ],
      ['node', 'add', 'later', '--type', 'sing-box', '--api', singBox.address],
      // A node's first pull only takes its counters as a baseline.
      ['stats', 'pull'],
    ]) {
      const result = await sbq(...args)
      assert.equal(result.code, 0, result.stderr)
    }
    await withRawDb(workspace.db, (raw) =>
      raw.updateTable('nodes').set({type: 'quantum'}).where('name', '=', 'later').execute(),
    )
    singBox.addTraffic('alice', 0, 2 * MiB)
  })

  after(async () => {
    await singBox.close()
    workspace.cleanup()
  })

  it('is listed as it is stored', async () => {
    const result = await sbq('node', 'list', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(
      result.json.map((node: {name: string; type: string}) => [node.name, node.type]),
      [
        ['later', 'quantum'],
        ['sb', 'sing-box'],
      ],
    )
  })

  it('fails alone in check: users are still judged and the other node is put in line (exit 4)', async () => {
    const result = await sbq('check', '--json')
    assert.equal(result.code, 4, result.stderr)
    assert.deepEqual(
      result.json.changes.map((change: {user: string; to: string}) => [change.user, change.to]),
      [['alice', 'limited']],
    )
    const byName = new Map(
      result.json.nodes.map((node: {name: string; error: string | null}) => [node.name, node] as const),
    )
    assert.deepEqual((byName.get('sb') as {error: null; added: string[]}).added, ['bob'])
    assert.equal((byName.get('sb') as {error: string | null}).error, null)
    assert.equal(
      (byName.get('later') as {error: string}).error,
      'node "later" has type "quantum", which this sbq does not know',
    )
    const pull = result.json.pulls.find((node: {name: string}) => node.name === 'later')
    assert.equal(pull.ok, false)
  })

  it('node test says what it is and what to do', async () => {
    const result = await sbq('node', 'test', 'later', '--json')
    assert.equal(result.code, 4)
    assert.deepEqual(result.json.error, {
      code: 'NODE_TYPE_UNKNOWN',
      message: 'node "later" has type "quantum", which this sbq does not know',
      hint: 'upgrade sbq to the version that added it, or: sbq node remove later',
    })
  })
})
