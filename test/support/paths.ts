import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

function findRepoRoot(start: string): string {
  let dir = start
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${start}`)
    dir = parent
  }
  return dir
}

/** The checkout's root, wherever the compiled tests live. */
export const repoRoot = findRepoRoot(dirname(fileURLToPath(import.meta.url)))
export const sbqBin = join(repoRoot, 'bin', 'sbq')
export const fixturesDir = join(repoRoot, 'test', 'fixtures')
