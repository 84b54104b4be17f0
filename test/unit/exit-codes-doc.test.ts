import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {repoRoot} from '../support/paths.js'

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Every code sbq raises, as written at the raise: `invalidInput('CODE', …)`, `new SbqError('CODE', …)` and the like. */
function raisedCodes(): Set<string> {
  const raise = /\b(?:invalidInput|notFound|conflict|unreachable|new SbqError)\(\s*'([A-Z][A-Z0-9_]+)'/g
  const codes = new Set<string>()
  for (const file of [...sourceFiles(join(repoRoot, 'src')), ...sourceFiles(join(repoRoot, 'migrations'))]) {
    for (const match of readFileSync(file, 'utf8').matchAll(raise)) codes.add(match[1]!)
  }
  return codes
}

describe('docs/exit-codes.md', () => {
  it('has a row for every error code sbq raises', () => {
    const documented = new Set(
      [...readFileSync(join(repoRoot, 'docs', 'exit-codes.md'), 'utf8').matchAll(/^\| ([A-Z][A-Z0-9_]+) \|/gm)].map(
        (match) => match[1]!,
      ),
    )
    const codes = raisedCodes()
    assert.ok(codes.size > 50, `found only ${codes.size} codes: the pattern no longer matches how sbq raises errors`)
    assert.deepEqual([...codes].filter((code) => !documented.has(code)).sort(), [])
  })
})
