import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {repoRoot} from '../support/paths.js'
import {tempWorkspace} from '../support/run-sbq.js'

/** A copy of the installed package (bin, package.json, the bundle without its cache), so the real one is never touched. */
function installCopy(dir: string): {bin: string; bundleDir: string} {
  const bundleDir = join(dir, 'dist', 'bundle')
  mkdirSync(join(dir, 'bin'), {recursive: true})
  mkdirSync(bundleDir, {recursive: true})
  copyFileSync(join(repoRoot, 'bin', 'sbq'), join(dir, 'bin', 'sbq'))
  copyFileSync(join(repoRoot, 'package.json'), join(dir, 'package.json'))
  copyFileSync(join(repoRoot, 'dist', 'bundle', 'sbq.cjs'), join(bundleDir, 'sbq.cjs'))
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'))
  return {bin: join(dir, 'bin', 'sbq'), bundleDir}
}

function caches(bundleDir: string): string[] {
  return readdirSync(bundleDir).filter((name) => name !== 'sbq.cjs')
}

function run(
  bin: string,
  db: string,
  nodeArgs: string[] = [],
): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...nodeArgs, bin, 'config', 'get', '--json'],
      {env: {...process.env, SBQ_DB: db}, timeout: 60_000},
      (error, stdout, stderr) => {
        resolve({code: error ? Number(error.code) : 0, stdout, stderr})
      },
    )
  })
}

function assertConfigListed(result: {code: number; stdout: string; stderr: string}): void {
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stderr, '')
  assert.ok(
    (JSON.parse(result.stdout) as Array<{key: string}>).some((setting) => setting.key === 'timezone'),
    result.stdout,
  )
}

describe('the code cache bin/sbq keeps for its bundle', () => {
  const workspace = tempWorkspace('sbq-code-cache-')
  let install: ReturnType<typeof installCopy>
  before(() => {
    install = installCopy(join(workspace.dir, 'package'))
  })
  after(() => workspace.cleanup())

  it('is written by the first run and left alone by the next', async () => {
    assert.deepEqual(caches(install.bundleDir), [])
    assertConfigListed(await run(install.bin, workspace.db))
    const [cache] = caches(install.bundleDir)
    assert.match(cache ?? '', /^sbq\.cjs\.[0-9a-f]{16}\.cache$/)
    const written = readFileSync(join(install.bundleDir, cache!))
    assert.ok(written.length > 100_000, `a cache of ${written.length} bytes`)

    assertConfigListed(await run(install.bin, workspace.db))
    assert.deepEqual(caches(install.bundleDir), [cache])
    assert.deepEqual(readFileSync(join(install.bundleDir, cache!)), written)
  })

  it('loads the bundle once: oclif gets the cached instance, not a second compile of the file', async () => {
    const hook = join(workspace.dir, 'count-compiles.cjs')
    writeFileSync(
      hook,
      `const Module = require('node:module')
const compile = Module.prototype._compile
Module.prototype._compile = function (content, filename) {
  if (filename.endsWith('sbq.cjs')) process.stderr.write('compiled ' + filename + '\\n')
  return compile.call(this, content, filename)
}
`,
    )
    assertConfigListed(await run(install.bin, workspace.db, ['--require', hook]))
  })

  it('is kept per Node flags, so runs with and without them do not replace each other', async () => {
    const flagged = await run(install.bin, workspace.db, ['--max-old-space-size=300'])
    assertConfigListed(flagged)
    assert.equal(
      caches(install.bundleDir).length,
      3,
      'one without flags, one for --require, one for --max-old-space-size',
    )
  })

  it('is replaced when V8 refuses it (damage, or another V8), without the command noticing', async () => {
    for (const name of caches(install.bundleDir)) writeFileSync(join(install.bundleDir, name), 'not a V8 code cache')
    assertConfigListed(await run(install.bin, workspace.db))
    const rewritten = caches(install.bundleDir).filter(
      (name) => readFileSync(join(install.bundleDir, name)).length > 100_000,
    )
    assert.equal(rewritten.length, 1, `only the cache for this run's flags is rewritten: ${rewritten.join(', ')}`)
  })

  it('is skipped where it cannot be written, leaving nothing behind', async () => {
    const blocked = installCopy(join(workspace.dir, 'blocked'))
    assertConfigListed(await run(blocked.bin, workspace.db))
    const [cache] = caches(blocked.bundleDir)
    // A directory in the cache's place can be neither read nor replaced (a read-only install cannot be made for root).
    rmSync(join(blocked.bundleDir, cache!))
    mkdirSync(join(blocked.bundleDir, cache!, 'in-the-way'), {recursive: true})
    assertConfigListed(await run(blocked.bin, workspace.db))
    assert.deepEqual(caches(blocked.bundleDir), [cache])
  })
})
