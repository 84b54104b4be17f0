import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, relative, resolve} from 'node:path'
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

/** The text outside fenced code blocks, where links and headings are Markdown. */
function prose(text: string): string {
  let fenced = false
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced
        return ''
      }
      return fenced ? '' : line
    })
    .join('\n')
}

/** GitHub's ids for a file's headings: lower case, punctuation but - and _ dropped, spaces to dashes, repeats numbered. */
function headingIds(file: string): Set<string> {
  const ids = new Set<string>()
  const seen = new Map<string, number>()
  for (const match of prose(readFileSync(file, 'utf8')).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = match[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    ids.add(count === 0 ? base : `${base}-${count}`)
  }
  return ids
}

/** Every relative link target in a Markdown file, outside code (fenced blocks and code spans). */
function relativeLinks(file: string): string[] {
  // A code span opens and closes with backtick runs of the same length (``a `b` c`` is one span).
  const text = prose(readFileSync(file, 'utf8')).replace(/(?<!`)(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, '')
  return [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
}

/** Links in `files` whose file (relative to `root`) or heading does not exist, as "FILE: TARGET (why)". */
function brokenLinks(files: string[], root: string): string[] {
  const broken: string[] = []
  for (const file of files) {
    for (const target of relativeLinks(file)) {
      const [path = '', anchor] = target.split('#', 2)
      const resolved = path === '' ? file : resolve(dirname(file), decodeURI(path))
      const shown = `${relative(root, file)}: ${target}`
      if (!existsSync(resolved)) {
        broken.push(`${shown} (no such file)`)
      } else if (anchor !== undefined && resolved.endsWith('.md') && !headingIds(resolved).has(anchor)) {
        broken.push(`${shown} (no such heading)`)
      }
    }
  }
  return broken
}

describe('links in README.md and docs/', () => {
  const docs = readdirSync(join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(repoRoot, 'docs', name))
  const files = [join(repoRoot, 'README.md'), join(repoRoot, 'bench', 'README.md'), ...docs]

  it('are found', () => {
    assert.ok(
      relativeLinks(join(repoRoot, 'README.md')).length > 20,
      'README.md has hardly any relative links: the pattern no longer finds them',
    )
  })

  it('point at files and headings that exist', () => {
    assert.deepEqual(brokenLinks(files, repoRoot), [])
  })

  it('are reported when their file or heading is missing', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'sbq-links-'))
    try {
      const file = join(scratch, 'page.md')
      const page = [
        '# A page',
        '## `sbq check`: the job',
        '[ok](#sbq-check-the-job) [bad](#nowhere) ``a `[span](span.md)` `` [gone](gone.md) [self](page.md#a-page) [web](https://example.com/x.md)',
        '```',
        '[code](not-a-link.md)',
        '```',
      ]
      writeFileSync(file, `${page.join('\n\n')}\n`)
      assert.deepEqual(relativeLinks(file), ['#sbq-check-the-job', '#nowhere', 'gone.md', 'page.md#a-page'])
      assert.deepEqual(brokenLinks([file], scratch), [
        'page.md: #nowhere (no such heading)',
        'page.md: gone.md (no such file)',
      ])
    } finally {
      rmSync(scratch, {recursive: true, force: true})
    }
  })
})
