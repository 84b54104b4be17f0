import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterEach, beforeEach, describe, it} from 'node:test'
import {findOnPath} from '../../src/lib/config-file/find-on-path.js'
import {findValidator} from '../../src/lib/proxies/shared/find-validator.js'
import {replaceConfigFile} from '../../src/lib/config-file/replace-config.js'
import {rewriteXrayUsers} from '../../src/lib/proxies/shared/xray-config.js'
import {fixturesDir} from '../support/paths.js'
import {rejectsWith} from '../support/assertions.js'

const OLD = '{\n  "log": {"level": "warn"},\n  "inbounds": []\n}\n'
const NEW = '{\n  "log": {"level": "warn"},\n  "inbounds": [{"type": "direct", "tag": "NEW-MARK"}]\n}\n'

let dir: string
let path: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sbq-replace-config-'))
  path = join(dir, 'config.json')
  writeFileSync(path, OLD)
  chmodSync(path, 0o640)
})

afterEach(() => {
  rmSync(dir, {recursive: true, force: true})
})

const isSbqError = (code: string, pattern?: RegExp) => rejectsWith(code, 4, pattern)

/** Only the config (and, once replaced, its backup): no temp file may be left behind. */
function assertDirHolds(...names: string[]): void {
  assert.deepEqual(readdirSync(dir).sort(), [...names].sort())
}

describe('replaceConfigFile', () => {
  it('replaces the file, keeping its mode and a backup of the previous version with the same mode', async () => {
    const result = await replaceConfigFile({path, newText: NEW, basedOn: OLD})
    assert.equal(readFileSync(path, 'utf8'), NEW)
    assert.equal(readFileSync(`${path}.sbq-bak`, 'utf8'), OLD)
    assert.equal(statSync(path).mode & 0o777, 0o640)
    assert.equal(statSync(`${path}.sbq-bak`).mode & 0o777, 0o640)
    assert.deepEqual(result, {changed: true, path, backupPath: `${path}.sbq-bak`, validated: false, applied: false})
    assertDirHolds('config.json', 'config.json.sbq-bak')
  })

  it('does nothing at all when the text is already there', async () => {
    const result = await replaceConfigFile({
      path,
      newText: OLD,
      basedOn: OLD,
      apply: {command: 'exit 9', timeoutMs: 1000},
    })
    assert.equal(result.changed, false)
    assertDirHolds('config.json')
  })

  it('refuses to write over an edit made since the caller read the file (basedOn), leaving the edit in place', async () => {
    const edited = OLD.replace('warn', 'debug')
    writeFileSync(path, edited)
    await assert.rejects(
      replaceConfigFile({path, newText: NEW, basedOn: OLD}),
      isSbqError('CONFIG_CHANGED', /changed while sbq was updating it/),
    )
    assert.equal(readFileSync(path, 'utf8'), edited)
    assertDirHolds('config.json')
  })

  it('writes the new text when the file still holds what the caller read (basedOn)', async () => {
    const result = await replaceConfigFile({path, newText: NEW, basedOn: OLD})
    assert.equal(result.changed, true)
    assert.equal(readFileSync(path, 'utf8'), NEW)
  })

  it('accepts a current file with comments', async () => {
    const commented = '// hand-written\n{"inbounds": []}\n'
    writeFileSync(path, commented)
    assert.equal((await replaceConfigFile({path, newText: NEW, basedOn: commented})).changed, true)
  })

  it('refuses what the validator rejects, quoting its last line, and leaves the file alone', async () => {
    await assert.rejects(
      replaceConfigFile({
        path,
        newText: NEW,
        basedOn: OLD,
        validate: {
          command: ['/bin/sh', '-c', 'echo "Checker 1.0 banner"; echo "bad inbound in $1"; exit 1', 'checker'],
        },
      }),
      isSbqError('CONFIG_REJECTED', /failed: "bad inbound in .*\.json"/),
    )
    assert.equal(readFileSync(path, 'utf8'), OLD)
    assertDirHolds('config.json')
  })

  it('hands the validator a temp file holding the new text, beside the original', async () => {
    const seen = join(dir, 'seen')
    const result = await replaceConfigFile({
      path,
      newText: NEW,
      basedOn: OLD,
      validate: {command: ['/bin/sh', '-c', 'cp "$1" "$0"', seen]},
    })
    assert.equal(result.validated, true)
    assert.equal(readFileSync(seen, 'utf8'), NEW)
    assert.equal(readFileSync(path, 'utf8'), NEW)
  })

  it('restores the previous file byte for byte when apply fails, applies it again, and says so', async () => {
    const log = join(dir, 'apply.log')
    // Fails only while the new config is in place, so the second run (on the restored file) succeeds.
    const command = `echo run >> '${log}'; if grep -q NEW-MARK '${path}'; then echo 'Job for sing-box.service failed.' >&2; echo more >&2; exit 3; fi`
    await assert.rejects(
      replaceConfigFile({path, newText: NEW, basedOn: OLD, apply: {command, timeoutMs: 5000}}),
      isSbqError(
        'APPLY_FAILED',
        /failed: "Job for sing-box.service failed\."; sbq restored the previous config and applied it again/,
      ),
    )
    assert.equal(readFileSync(path, 'utf8'), OLD)
    assert.equal(statSync(path).mode & 0o777, 0o640)
    assert.equal(readFileSync(log, 'utf8'), 'run\nrun\n')
    assertDirHolds('config.json', 'config.json.sbq-bak', 'apply.log')
  })

  it('says so when applying the restored file fails too', async () => {
    await assert.rejects(
      replaceConfigFile({path, newText: NEW, basedOn: OLD, apply: {command: 'echo down >&2; exit 3', timeoutMs: 5000}}),
      isSbqError('APPLY_FAILED', /restored the previous config, but applying it again also failed: "down"/),
    )
    assert.equal(readFileSync(path, 'utf8'), OLD)
  })

  it('times out a slow apply and restores the previous file', async () => {
    const started = Date.now()
    await assert.rejects(
      replaceConfigFile({
        path,
        newText: NEW,
        basedOn: OLD,
        apply: {command: `grep -q NEW-MARK '${path}' && sleep 30; exit 0`, timeoutMs: 300},
      }),
      isSbqError('APPLY_FAILED', /did not finish within 300 ms; sbq restored the previous config and applied it again/),
    )
    assert.ok(Date.now() - started < 10_000, 'the sleeping apply was killed')
    assert.equal(readFileSync(path, 'utf8'), OLD)
  })

  it('reports a successful apply', async () => {
    const result = await replaceConfigFile({
      path,
      newText: NEW,
      basedOn: OLD,
      apply: {command: 'true', timeoutMs: 5000},
    })
    assert.equal(result.applied, true)
    assert.equal(readFileSync(path, 'utf8'), NEW)
  })

  it('writes through a symlink to the real file', async () => {
    const link = join(dir, 'link.json')
    symlinkSync(path, link)
    const result = await replaceConfigFile({path: link, newText: NEW, basedOn: OLD})
    assert.equal(result.path, path)
    assert.equal(readFileSync(path, 'utf8'), NEW)
    assert.ok(statSync(link).isFile())
  })

  it('uses the real v2ray checker: a rewritten config passes, a broken one is refused', async (t) => {
    const validator = findValidator('v2ray')
    if (validator === null) {
      assert.equal(process.env['CI'], undefined, 'v2ray must be on PATH in CI')
      t.skip('v2ray is not on PATH')
      return
    }
    const original = readFileSync(join(fixturesDir, 'v2ray-config.json'), 'utf8')
    writeFileSync(path, original)
    const user = (uuid: string): Parameters<typeof rewriteXrayUsers>[1] => ({
      flavor: 'v2ray',
      desired: [{name: 'bob', credentials: {uuid, password: 'x'.repeat(44), password16: 'y'.repeat(24)}}],
      managedNames: new Set(['bob', 'alice', 'dave']),
    })

    const broken = rewriteXrayUsers(original, user('not-a-uuid')).text
    await assert.rejects(
      replaceConfigFile({path, newText: broken, basedOn: original, validate: validator}),
      isSbqError('CONFIG_REJECTED', /invalid UUID/),
    )
    assert.equal(readFileSync(path, 'utf8'), original)

    const good = rewriteXrayUsers(original, user('fb1e35c2-e4b4-49fd-b286-0552d6b84770')).text
    const result = await replaceConfigFile({path, newText: good, basedOn: original, validate: validator})
    assert.equal(result.validated, true)
    assert.equal(readFileSync(path, 'utf8'), good)
  })
})

/**
 * The names a proxy loads from a config folder, as upstream reads them: sing-box cmd/sing-box/cmd_run.go readConfig
 * (`run -C`: every entry ending .json/.yaml/.yml, dotfiles included, folders skipped), Xray-core main/run.go
 * readConfDir (`-confdir`: any entry matching ^.+\.(json|jsonc|toml|yaml|yml)$, folders included), v2ray-core v4
 * main/main.go readConfDir (`-confdir`: ending .json; v5 .json/.yaml/.yml in any case).
 */
const loaderReads = /\.(json|jsonc|toml|yaml|yml)$/i

/** Everything below `dir` but the config and its backup, with its permission bits. */
function leftovers(): Array<{name: string; mode: number}> {
  const found: Array<{name: string; mode: number}> = []
  const walk = (relative: string) => {
    for (const name of readdirSync(join(dir, relative))) {
      const entry = join(relative, name)
      if (entry === 'config.json' || entry === 'config.json.sbq-bak') continue
      const stats = lstatSync(join(dir, entry))
      found.push({name: entry, mode: stats.mode & 0o777})
      if (stats.isDirectory()) walk(entry)
    }
  }
  walk('')
  return found
}

describe('replaceConfigFile after a kill', () => {
  const replaceConfigModule = new URL('../../src/lib/config-file/replace-config.js', import.meta.url).href

  /** A rewrite in another process, SIGKILLed (with its validator) while the validator holds the new text. */
  async function killMidRewrite(): Promise<void> {
    const marker = join(dir, 'validator-started')
    const script = `
      const {replaceConfigFile} = await import(${JSON.stringify(replaceConfigModule)})
      await replaceConfigFile({path: ${JSON.stringify(path)}, newText: ${JSON.stringify(NEW)}, basedOn: ${JSON.stringify(OLD)},
        validate: {command: ['/bin/sh', '-c', 'touch "$0"; exec sleep 30', ${JSON.stringify(marker)}]}})`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {detached: true, stdio: 'ignore'})
    const exited = new Promise((resolve) => child.once('exit', resolve))
    for (let waited = 0; !existsSync(marker); waited += 20) {
      assert.ok(waited < 10_000, 'the validator never started')
      await sleep(20)
    }
    process.kill(-child.pid!, 'SIGKILL')
    await exited
    rmSync(marker)
  }

  it('a SIGKILL mid-rewrite leaves the config as it was and nothing a proxy would load, readable by no one else', async () => {
    await killMidRewrite()
    assert.equal(readFileSync(path, 'utf8'), OLD)
    const left = leftovers()
    assert.ok(left.length > 0, 'the kill left the temp file behind (the next test relies on it)')
    assert.deepEqual(
      readdirSync(dir).filter((name) => loaderReads.test(name)),
      ['config.json'],
      'only the config is named like a config',
    )
    for (const entry of left) assert.equal(entry.mode & 0o077, 0, `${entry.name} is mode ${entry.mode.toString(8)}`)
  })

  it("the next rewrite removes what a dead sbq left, also under the old .json name, and keeps a live one's fresh file", async () => {
    await killMidRewrite()
    const deadPid = 2 ** 22 + 12345
    writeFileSync(join(dir, `.config.json.sbq-${deadPid}-deadbeef.json`), NEW)
    const live = `.config.json.sbq-${process.pid}-0badf00d.tmp`
    mkdirSync(join(dir, live), {mode: 0o700})
    const liveButOld = `.config.json.sbq-${process.pid}-0ddba11a.tmp`
    mkdirSync(join(dir, liveButOld), {mode: 0o700})
    // Two hours before now by the file system's clock (the config was just written), which sbq measures ages by.
    const twoHoursAgo = new Date(statSync(path).mtimeMs - 2 * 3600_000)
    utimesSync(join(dir, liveButOld), twoHoursAgo, twoHoursAgo)
    const otherConfig = `.other.json.sbq-${deadPid}-deadbeef.tmp`
    writeFileSync(join(dir, otherConfig), '')

    const result = await replaceConfigFile({path, newText: NEW, basedOn: OLD})
    assert.equal(result.changed, true)
    assertDirHolds('config.json', 'config.json.sbq-bak', live, otherConfig)
  })
})

describe('findValidator', () => {
  it('finds the checker on PATH without shelling out, skipping non-executables and relative entries', () => {
    const make = (folder: string, name: string, mode: number): string => {
      const file = join(folder, name)
      writeFileSync(file, '#!/bin/sh\nexit 0\n')
      chmodSync(file, mode)
      return file
    }
    assert.equal(findValidator('sing-box', {PATH: ''}), null)
    const binDir = mkdtempSync(join(dir, 'bin-'))
    const otherDir = mkdtempSync(join(dir, 'other-'))
    make(otherDir, 'sing-box', 0o644)
    const singBox = make(binDir, 'sing-box', 0o755)
    const env = {PATH: ['relative/dir', otherDir, binDir].join(':')}
    assert.deepEqual(findValidator('sing-box', env), {command: [singBox, 'check', '-c']})
    assert.equal(findValidator('xray', env), null)
    const xray = make(binDir, 'xray', 0o755)
    assert.deepEqual(findValidator('xray', env), {command: [xray, 'run', '-test', '-c']})
    const v2ray = make(binDir, 'v2ray', 0o755)
    assert.deepEqual(findValidator('v2ray', env), {command: [v2ray, '-test', '-config']})
    assert.equal(findOnPath('sing-box', {PATH: otherDir}), null)
  })
})
