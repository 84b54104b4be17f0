import assert from 'node:assert/strict'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {assertJsonError} from '../support/assertions.js'
import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'

// sbq gives a user one set of credentials on every managed inbound, so an import that would flatten a user's
// different per-inbound secrets (or put a non-key into a 2022 shadowsocks inbound) is refused before anything is stored.
describe('sbq node add --import on a sing-box config (real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-import-sb-')
  const config = join(fixturesDir, 'sing-box-config.json')
  const sbq = (...args: string[]) => runSbq([...args, '--json'], {db: workspace.db})
  const addNode = (...inbounds: string[]) =>
    sbq(
      'node',
      'add',
      'sb',
      '--type',
      'sing-box',
      '--api',
      '127.0.0.1:1',
      '--config',
      config,
      ...inbounds.flatMap((tag) => ['--inbound', tag]),
      '--import',
    )

  after(() => workspace.cleanup())

  it('refuses a user with different passwords on different inbounds, naming the user and the inbounds, and stores nothing', async () => {
    const refused = await addNode()
    assertJsonError(
      refused,
      3,
      'IMPORT_CREDENTIALS_DIFFER',
      /^user "guest" has different passwords on inbounds "trojan-in", "ss-chacha-in", "hysteria-in", "anytls-in", "naive-in", "mixed-in"/,
    )
    assert.match(refused.json.error.hint, /--inbound/)
    assert.deepEqual((await sbq('node', 'list')).json, [])
    assert.deepEqual((await sbq('user', 'list')).json, [])
  })

  it('refuses a password that is no key for a managed shadowsocks 2022 inbound, naming both inbounds', async () => {
    const refused = await addNode('trojan-in', 'ss256-in')
    assertJsonError(
      refused,
      3,
      'IMPORT_KEY_INVALID',
      /^user "guest" has a password on inbound "trojan-in" that is no 32-byte key for inbound "ss256-in" \(2022-blake3-aes-256-gcm\)/,
    )
    assert.doesNotMatch(refused.json.error.message, /not-base64-but-fine/)
    assert.deepEqual((await sbq('node', 'list')).json, [])
  })

  it('imports each user with the credentials of the inbounds it keeps', async () => {
    const added = await addNode('naive-in', 'ss128-in', 'hy2-in')
    assert.equal(added.code, 0, added.stderr)
    assert.deepEqual(added.json.imported.added.sort(), ['alice', 'guest'])
    const guest = await sbq('user', 'show', 'guest', '--secrets')
    assert.equal(guest.json.credentials.password, 'guest-naive')
    const alice = await sbq('user', 'show', 'alice', '--secrets')
    assert.equal(alice.json.credentials.password16, '0u2h3yD1+nkbqCcMIxHSFA==')
  })
})
