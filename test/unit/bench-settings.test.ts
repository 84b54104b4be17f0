import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {benchSettings, sbqEnvironment} from '../../bench/lib/bench-settings.js'

describe('bench environment', () => {
  const shell = {
    PATH: '/usr/bin:/bin',
    HOME: '/root',
    TZ: 'Asia/Shanghai',
    NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt',
    NODE_OPTIONS: '--inspect',
  }

  it('gives sbq what a cron job has, without the shell variables that cost every start', () => {
    assert.deepEqual(sbqEnvironment(benchSettings({}), shell), {
      PATH: '/usr/bin:/bin',
      HOME: '/root',
      TZ: 'Asia/Shanghai',
    })
  })

  it('passes the whole environment with BENCH_INHERIT_ENV=1', () => {
    assert.deepEqual(sbqEnvironment(benchSettings({BENCH_INHERIT_ENV: '1'}), shell), shell)
  })
})
