import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {repoRoot} from '../support/paths.js'

const script = join(repoRoot, 'scripts', 'command-reference.mjs')

function reference(...args: string[]) {
  return spawnSync(process.execPath, [script, ...args], {cwd: repoRoot, encoding: 'utf8'})
}

describe('docs/commands.md', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'sbq-command-reference-'))
  after(() => rmSync(scratch, {recursive: true, force: true}))

  it('is what scripts/command-reference.mjs renders from the built commands (else: npm run docs)', () => {
    const run = reference('--check')
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stderr, '')
  })

  it('is reported out of date when one line differs', () => {
    const file = join(scratch, 'commands.md')
    const written = reference('--file', file)
    assert.equal(written.status, 0, written.stderr)
    assert.equal(readFileSync(file, 'utf8'), readFileSync(join(repoRoot, 'docs', 'commands.md'), 'utf8'))
    assert.equal(reference('--check', '--file', file).status, 0)

    const text = readFileSync(file, 'utf8')
    const changed = text.replace(/^## sbq user add$/m, '## sbq user create')
    assert.notEqual(changed, text, 'the reference has no "## sbq user add" heading to change')
    writeFileSync(file, changed)
    const stale = reference('--check', '--file', file)
    assert.equal(stale.status, 1)
    assert.equal(stale.stderr, `${file} is out of date (run: npm run docs)\n`)
  })

  it('is reported out of date when it is missing', () => {
    const file = join(scratch, 'missing.md')
    const stale = reference('--check', '--file', file)
    assert.equal(stale.status, 1)
    assert.equal(stale.stderr, `${file} is out of date (run: npm run docs)\n`)
  })
})
