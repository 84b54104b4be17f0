import assert from 'node:assert/strict'
import {copyFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {assertJsonError} from '../support/assertions.js'
import {fixturesDir} from '../support/paths.js'
import {runSbq, tempWorkspace} from '../support/run-sbq.js'
import {decodeQr, writeHalfBlockQrAsPgm, zbarAvailable} from '../support/qr-image.js'
import {parseShareLink} from '../support/share-link-parser.js'
import {StubV2rayApi} from '../support/stub-v2ray-api.js'

describe('sbq user link and node set --public-host (stub V2Ray API, real config file, real bin/sbq)', () => {
  const workspace = tempWorkspace('sbq-links-')
  const configPath = join(workspace.dir, 'v2ray.json')
  const sbq = (...args: string[]) => runSbq(args, {db: workspace.db})
  let stub: StubV2rayApi

  before(async () => {
    copyFileSync(join(fixturesDir, 'v2ray-config.json'), configPath)
    stub = await StubV2rayApi.start({flavor: 'v2ray', inboundTags: ['vmess-in', 'vless-in', 'trojan-in']})
    const added = await sbq(
      'node',
      'add',
      'v1',
      '--type',
      'v2ray',
      '--api',
      stub.address,
      '--config',
      configPath,
      '--apply',
      'true',
      '--import',
      '--json',
    )
    assert.equal(added.code, 0, added.stderr)
    assert.equal(added.json.publicHost, null)
  })

  after(async () => {
    await stub.close()
    workspace.cleanup()
  })

  it('without a public host there is no link, and the error says what to set', async () => {
    assertJsonError(await sbq('user', 'link', 'alice', '--json'), 2, 'NO_SHARE_LINK', /node "v1".*public host/)
    const plain = await sbq('user', 'link', 'alice')
    assert.equal(plain.code, 2)
    assert.equal(plain.stdout, '')
    assert.equal(plain.stderr.trim().split('\n').length, 1, plain.stderr)
    assert.match(plain.stderr, /sbq node set v1 --public-host HOST/)
  })

  it('node set refuses a public host that is not HOST[:PORT], and changes nothing', async () => {
    assertJsonError(
      await sbq('node', 'set', 'v1', '--public-host', 'https://vpn.example.com', '--json'),
      2,
      'PUBLIC_HOST_INVALID',
      /"https:\/\/vpn\.example\.com"/,
    )
    assertJsonError(await sbq('node', 'set', 'v1', '--json'), 2, 'NOTHING_TO_CHANGE', /node "v1"/)
    assertJsonError(
      await sbq('node', 'set', 'nope', '--public-host', 'a.example', '--json'),
      3,
      'NODE_NOT_FOUND',
      /nope/,
    )
    const shown = await sbq('node', 'show', 'v1', '--json')
    assert.equal(shown.json.publicHost, null)
  })

  it("prints one link per managed inbound, each carrying the user's own credentials and the public address", async () => {
    const set = await sbq('node', 'set', 'v1', '--public-host', 'vpn.example.com:8443', '--json')
    assert.equal(set.code, 0, set.stderr)
    assert.equal(set.json.publicHost, 'vpn.example.com:8443')
    const secrets = await sbq('user', 'show', 'alice', '--secrets', '--json')
    const result = await sbq('user', 'link', 'alice', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.json.user, 'alice')
    const [node] = result.json.nodes as Array<{
      node: string
      links: Array<{tag: string; protocol: string; link: string}>
    }>
    assert.equal(node!.node, 'v1')
    assert.deepEqual(node!.links.map((entry) => entry.tag).sort(), ['trojan-in', 'vless-in', 'vmess-in'])
    for (const entry of node!.links) {
      const parsed = parseShareLink(entry.link)
      assert.equal(parsed.host, 'vpn.example.com')
      assert.equal(parsed.port, 8443)
      assert.equal(parsed.remark, 'alice')
      const expected = entry.protocol === 'trojan' ? secrets.json.credentials.password : secrets.json.credentials.uuid
      assert.equal(parsed.secret, expected, entry.tag)
    }
  })

  it('--qr-png writes each QR code as a private PNG that zbarimg reads back to the same link', async (t) => {
    if (!zbarAvailable()) {
      if (process.env.CI !== undefined)
        assert.fail('zbarimg is not installed (zbar-tools), and CI must decode the QR codes')
      t.skip('zbarimg not installed (apt-get install zbar-tools)')
      return
    }
    const dir = join(workspace.dir, 'qr-alice')
    const result = await sbq('user', 'link', 'alice', '--qr-png', dir, '--json')
    assert.equal(result.code, 0, result.stderr)
    const links = result.json.nodes[0].links as Array<{tag: string; link: string; png: string}>
    assert.equal(links.length, 3)
    for (const entry of links) {
      assert.equal(statSync(entry.png).mode & 0o777, 0o600, entry.png)
      assert.deepEqual(decodeQr(entry.png), [entry.link], entry.tag)
    }
    assert.equal(statSync(dir).mode & 0o777, 0o700)
    const file = join(workspace.dir, 'not-a-directory')
    writeFileSync(file, '')
    assertJsonError(
      await sbq('user', 'link', 'alice', '--qr-png', file, '--json'),
      2,
      'QR_DIRECTORY_INVALID',
      /not-a-directory": it is not a directory/,
    )
    // /proc takes no new directory, even from root.
    assertJsonError(
      await sbq('user', 'link', 'alice', '--qr-png', '/proc/sbq-qr', '--json'),
      2,
      'QR_DIRECTORY_INVALID',
      /cannot write into "\/proc\/sbq-qr": [A-Z]+/,
    )
  })

  it('--qr draws each QR code in the terminal, with or without colour, readable back to the printed link', async (t) => {
    if (!zbarAvailable()) {
      if (process.env.CI !== undefined)
        assert.fail('zbarimg is not installed (zbar-tools), and CI must decode the QR codes')
      t.skip('zbarimg not installed (apt-get install zbar-tools)')
      return
    }
    for (const env of [{NO_COLOR: '1'}, {FORCE_COLOR: '1'}]) {
      const result = await runSbq(['user', 'link', 'alice', '--node', 'v1', '--qr'], {db: workspace.db, env})
      assert.equal(result.code, 0, result.stderr)
      const blocks = result.stdout.trimEnd().split('\n\n')
      assert.equal(blocks.length, 4, result.stdout)
      assert.match(
        blocks.pop()!,
        /^subscription: \/sub\/([A-Za-z0-9_-]{43}) on sbq serve .*\nuser page: +\/u\/\1 on sbq serve$/,
      )
      for (const [index, block] of blocks.entries()) {
        const [, link, ...drawing] = block.split('\n')
        assert.match(link!, /^(vmess|vless|trojan):\/\//)
        assert.ok(drawing.length > 10, block)
        assert.equal(drawing.join('').includes('\u001b['), 'FORCE_COLOR' in env, 'colour codes only when colour is on')
        const image = join(workspace.dir, `terminal-${index}.pgm`)
        writeHalfBlockQrAsPgm(drawing.join('\n'), image)
        assert.deepEqual(decodeQr(image), [link], `${JSON.stringify(env)} ${link}`)
      }
    }
  })

  it('prints each link alone on its line for copying; a disabled user still gets them, with a note on stderr', async () => {
    const plain = await sbq('user', 'link', 'alice', '--node', 'v1')
    assert.equal(plain.code, 0, plain.stderr)
    const links = plain.stdout.split('\n').filter((line) => /^(vmess|vless|trojan|ss):\/\//.test(line))
    assert.equal(links.length, 3, plain.stdout)
    assert.equal(plain.stderr, '')
    assert.equal((await sbq('user', 'disable', 'alice', '--no-apply')).code, 0)
    const disabled = await sbq('user', 'link', 'alice')
    assert.equal(disabled.code, 0, disabled.stderr)
    assert.match(disabled.stderr, /^note: user "alice" is disabled: these links work once the user is active again\n$/)
  })

  it('an unknown user or node is exit 3 with one line', async () => {
    assertJsonError(await sbq('user', 'link', 'nobody', '--json'), 3, 'USER_NOT_FOUND', /nobody/)
    assertJsonError(await sbq('user', 'link', 'alice', '--node', 'nope', '--json'), 3, 'NODE_NOT_FOUND', /nope/)
  })
})
