import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {repoRoot} from '../support/paths.js'
import {tempWorkspace} from '../support/run-sbq.js'

/** A copy of the installed package (bin, package.json, the bundle without its cache), so the real one is never touched. */
function installCopy(dir: string): {bin: string; bundleDir: string; cacheFile: string} {
  const bundleDir = join(dir, 'dist', 'bundle')
  mkdirSync(join(dir, 'bin'), {recursive: true})
  mkdirSync(bundleDir, {recursive: true})
  copyFileSync(join(repoRoot, 'bin', 'sbq'), join(dir, 'bin', 'sbq'))
  copyFileSync(join(repoRoot, 'package.json'), join(dir, 'package.json'))
  copyFileSync(join(repoRoot, 'dist', 'bundle', 'sbq.cjs'), join(bundleDir, 'sbq.cjs'))
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'))
  return {bin: join(dir, 'bin', 'sbq'), bundleDir, cacheFile: join(bundleDir, 'sbq.cjs.cache')}
}

function run(bin: string, db: string): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, 'config', 'get', '--json'], {env: {...process.env, SBQ_DB: db}, timeout: 60_000}, (error, stdout, stderr) => {
      resolve({code: error ? Number(error.code) : 0, stdout, stderr})
    })
  })
}

describe('the code cache bin/sbq keeps for its bundle', () => {
  const workspace = tempWorkspace('sbq-code-cache-')
  let install: ReturnType<typeof installCopy>
  before(() => {
    install = installCopy(join(workspace.dir, 'package'))
  })
  after(() => workspace.cleanup())

  it('is written by the first run and left alone by the next', async () => {
    assert.equal(existsSync(install.cacheFile), false)
    const first = await run(install.bin, workspace.db)
    assert.equal(first.code, 0, first.stderr)
    assert.equal(first.stderr, '')
    assert.ok((JSON.parse(first.stdout) as Array<{key: string}>).some((setting) => setting.key === 'timezone'), first.stdout)
    const written = readFileSync(install.cacheFile)
    assert.ok(written.length > 100_000, `a cache of ${written.length} bytes`)

    const second = await run(install.bin, workspace.db)
    assert.equal(second.code, 0, second.stderr)
    assert.deepEqual(readFileSync(install.cacheFile), written)
  })

  it('is replaced when V8 refuses it (another Node, or damage), without the command noticing', async () => {
    writeFileSync(install.cacheFile, 'not a V8 code cache')
    const result = await run(install.bin, workspace.db)
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr, '')
    assert.ok(readFileSync(install.cacheFile).length > 100_000)
  })

  it('is skipped where it cannot be written, leaving nothing behind', async () => {
    const blocked = installCopy(join(workspace.dir, 'blocked'))
    // A directory in the cache's place can be neither read nor replaced (a read-only install cannot be made for root).
    mkdirSync(join(blocked.cacheFile, 'in-the-way'), {recursive: true})
    const result = await run(blocked.bin, workspace.db)
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr, '')
    assert.deepEqual(readdirSync(blocked.bundleDir).sort(), ['sbq.cjs', 'sbq.cjs.cache'])
  })
})
