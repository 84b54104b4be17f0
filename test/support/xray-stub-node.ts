import assert from 'node:assert/strict'
import {copyFileSync} from 'node:fs'
import {join} from 'node:path'

import {fixturesDir} from './paths.js'
import {runSbq, tempWorkspace, type SbqResult} from './run-sbq.js'
import {StubV2rayApi} from './stub-v2ray-api.js'

/**
 * A temp database with one Xray node `x1` on the emulated API, managing the fixture config's `vless-reality` inbound,
 * its first pull (the counters' baseline) taken: what e2e tests of quota rules start from. `sbqAt` runs the real
 * bin/sbq at a fixed clock.
 */
export async function xrayStubNode(
  prefix: string,
  setup: {now: string; timeZone: string},
): Promise<{
  workspace: ReturnType<typeof tempWorkspace>
  stub: StubV2rayApi
  sbqAt: (now: string, ...args: string[]) => Promise<SbqResult>
  /** `user show NAME --json` at `now`, which must succeed. */
  userAt: (now: string, name: string) => Promise<Record<string, any>>
  close: () => Promise<void>
}> {
  const workspace = tempWorkspace(prefix)
  const configPath = join(workspace.dir, 'xray.json')
  copyFileSync(join(fixturesDir, 'xray-config.json'), configPath)
  const stub = await StubV2rayApi.start({flavor: 'xray', inboundTags: ['vless-reality']})
  const sbqAt = (now: string, ...args: string[]) => runSbq(args, {db: workspace.db, env: {SBQ_NOW: now}})
  const steps = [
    ['config', 'set', 'timezone', setup.timeZone],
    // The config is rewritten with an apply command that does nothing: the emulated API takes the live changes.
    [
      'node',
      'add',
      'x1',
      '--type',
      'xray',
      '--api',
      stub.address,
      '--config',
      configPath,
      '--inbound',
      'vless-reality',
      '--apply',
      'true',
    ],
    // The first pull only takes the counters' baseline: traffic counts from here on.
    ['stats', 'pull'],
  ]
  for (const args of steps) {
    const result = await sbqAt(setup.now, ...args)
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`)
  }
  return {
    workspace,
    stub,
    sbqAt,
    userAt: async (now, name) => {
      const shown = await sbqAt(now, 'user', 'show', name, '--json')
      assert.equal(shown.code, 0, shown.stderr)
      return shown.json
    },
    close: async () => {
      await stub.close()
      workspace.cleanup()
    },
  }
}
