/**
 * Issue 14, item 12 through the real bin/sbq: `node add --import` of a sing-box config in which one user holds a
 * different password on each of four inbounds used to keep the first and, on the next sync, write it to all four,
 * locking the user's clients out and putting a 32-byte key on a 2022-blake3-aes-128-gcm inbound, which sing-box
 * refuses. sbq keeps one set of credentials per user, so it refuses the import in one line and changes nothing.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {runSbq, tempWorkspace} from '../support/run-sbq.js'

const key = (bytes: number): string => randomBytes(bytes).toString('base64')

function fourInbounds(): object {
  const inbound = (type: string, tag: string, port: number, users: object[], extra: object = {}) => ({type, tag, listen: '127.0.0.1', listen_port: port, ...extra, users})
  return {
    inbounds: [
      inbound('trojan', 'trojan-in', 21001, [{name: 'alice', password: 'alice-trojan-secret'}]),
      inbound('hysteria2', 'hy2-in', 21002, [{name: 'alice', password: 'alice-hy2-secret'}]),
      inbound('shadowsocks', 'ss256-in', 21003, [{name: 'alice', password: key(32)}], {method: '2022-blake3-aes-256-gcm', password: key(32)}),
      inbound('shadowsocks', 'ss128-in', 21004, [{name: 'alice', password: key(16)}, {name: 'bob', password: key(16)}], {method: '2022-blake3-aes-128-gcm', password: key(16)}),
    ],
    outbounds: [{type: 'direct', tag: 'direct'}],
    experimental: {v2ray_api: {listen: '127.0.0.1:21010', stats: {enabled: true, users: ['alice', 'bob']}}},
  }
}

describe('sing-box node add --import: a user with different credentials on different inbounds (real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-sing-box-import-')
  const configPath = join(workspace.dir, 'config.json')
  const sbq = (...args: string[]) => runSbq(args, {db: workspace.db, env: {SBQ_NOW: '2024-05-20T12:00:00Z'}})
  after(() => workspace.cleanup())

  it('refuses the import in one line naming the user and the inbounds, and adds no node, no user and no change', async () => {
    writeFileSync(configPath, JSON.stringify(fourInbounds(), null, 2))
    const before = readFileSync(configPath, 'utf8')
    const add = ['node', 'add', 'sb', '--type', 'sing-box', '--api', '127.0.0.1:21010', '--config', configPath, '--apply', 'true', '--import']
    const human = await sbq(...add)
    assert.equal(human.code, 2, human.stderr)
    assert.equal(human.stdout, '')
    assert.equal(human.stderr.trim().split('\n').length, 1, human.stderr)
    assert.match(human.stderr, /^error: user "alice" has different passwords in inbounds "trojan-in", "hy2-in", "ss256-in", "ss128-in"/)
    assert.match(human.stderr, /sbq imported nothing/)

    const json = await sbq(...add, '--json')
    assert.equal(json.code, 2)
    assert.equal(json.json.error.code, 'IMPORT_CREDENTIALS_DIFFER')

    assert.deepEqual((await sbq('node', 'list', '--json')).json, [])
    assert.deepEqual((await sbq('user', 'list', '--json')).json, [])
    assert.equal(readFileSync(configPath, 'utf8'), before)
  })

  it('imports every user once the operator leaves the other inbounds out', async () => {
    const added = await sbq('node', 'add', 'sb', '--type', 'sing-box', '--api', '127.0.0.1:21010', '--config', configPath, '--inbound', 'ss128-in', '--apply', 'true', '--import', '--json')
    assert.equal(added.code, 0, added.stderr)
    assert.deepEqual(added.json.imported.added, ['alice', 'bob'])
  })
})
