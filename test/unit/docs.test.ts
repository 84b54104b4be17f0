/**
 * The docs a newcomer reads stay true: the command reference is the commands' own, and every relative link in the
 * README, docs/ and bench/README.md reaches a file, and a heading where it names one.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, relative, resolve} from 'node:path'
import {describe, it} from 'node:test'

import {repoRoot} from '../support/paths.js'

const script = join(repoRoot, 'scripts', 'command-reference.mjs')

function reference(...args: string[]) {
  return spawnSync(process.execPath, [script, ...args], {encoding: 'utf8'})
}

describe('docs/commands.md', () => {
  it('is what scripts/command-reference.mjs makes of the built commands (run: npm run docs)', () => {
    const run = reference('--check')
    assert.equal(run.status, 0, run.stderr)
  })

  it('is reported out of date, in one line, when it differs from the commands', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sbq-docs-'))
    try {
      const stale = join(dir, 'commands.md')
      const current = readFileSync(join(repoRoot, 'docs', 'commands.md'), 'utf8')
      writeFileSync(stale, current.replace('Create a user with fresh credentials and a quota', 'Create a user'))
      const run = reference('--check', '--file', stale)
      assert.equal(run.status, 1)
      assert.equal(run.stderr, `${stale} is out of date (run: npm run docs)\n`)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})

/** GitHub's anchor for a heading: lower case, punctuation but `-` and `_` dropped, spaces as `-`. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-')
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '')
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1]!)))
}

const documents = [
  join(repoRoot, 'README.md'),
  join(repoRoot, 'bench', 'README.md'),
  ...readdirSync(join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(repoRoot, 'docs', name)),
]

describe('links in the README and docs/', () => {
  for (const document of documents) {
    it(`every relative link in ${relative(repoRoot, document)} reaches a file and a heading`, () => {
      const text = readFileSync(document, 'utf8').replace(/```[\s\S]*?```/g, '')
      const broken: string[] = []
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue
        const [path, anchor] = target!.split('#') as [string, string | undefined]
        const file = path === '' ? document : resolve(dirname(document), path)
        if (!existsSync(file)) broken.push(`${target} (no such file)`)
        else if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(file).has(anchor))
          broken.push(`${target} (no such heading)`)
      }
      assert.deepEqual(broken, [])
    })
  }
})
