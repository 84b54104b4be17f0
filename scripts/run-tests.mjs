#!/usr/bin/env node
// Runs the compiled tests with node's own runner. Node 20's `--test` takes no globs, so the files are listed here.
// Usage: node scripts/run-tests.mjs [unit|adapters|e2e ...]
import {spawnSync} from 'node:child_process'
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

const root = 'dist/test'
const suites = process.argv.slice(2)
const dirs = suites.length > 0 ? suites.map((s) => join(root, s)) : [root]

function collect(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) return collect(path)
    return entry.endsWith('.test.js') ? [path] : []
  })
}

const files = dirs.flatMap(collect).sort()
if (files.length === 0) {
  console.error(`no test files under ${dirs.join(', ')}`)
  process.exit(1)
}

const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], {stdio: 'inherit'})
process.exit(result.status ?? 1)
