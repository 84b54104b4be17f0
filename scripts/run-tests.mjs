#!/usr/bin/env node
// Runs the compiled tests with node's own runner. Node 20's `--test` takes no globs, so the files are listed here.
// Every suite runs on SQLite; then the repository, migration and end-to-end suites (unit, e2e) run again on
// PostgreSQL, on a throw-away cluster started here (scripts/postgres-cluster.mjs) unless SBQ_TEST_POSTGRES names one.
// Without PostgreSQL installed that pass is skipped with the reason; under CI it fails instead.
// Usage: node scripts/run-tests.mjs [unit|adapters|e2e ...]     SBQ_TEST_DIALECTS=sqlite (or postgres) for one pass
import {spawnSync} from 'node:child_process'
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {postgresBin, startCluster, stopCluster} from './postgres-cluster.mjs'

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
const onBothDialects = files.filter((file) => file.startsWith(join(root, 'unit')) || file.startsWith(join(root, 'e2e')))
const dialects = (process.env.SBQ_TEST_DIALECTS ?? 'sqlite,postgres').split(',')

let cluster
const env = {...process.env}
if (!env.SBQ_TEST_POSTGRES && dialects.includes('postgres')) {
  if (postgresBin()) {
    cluster = await startCluster()
    env.SBQ_TEST_POSTGRES = cluster.url
  } else if (process.env.CI) {
    console.error('PostgreSQL is not installed, and under CI the PostgreSQL pass must run (apt-get install postgresql)')
    process.exit(1)
  } else {
    console.error('skipping the PostgreSQL pass: PostgreSQL is not installed (apt-get install postgresql)')
  }
}

function run(dialect, list) {
  console.log(`\n== ${list.length} test files on ${dialect}`)
  const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...list], {
    stdio: 'inherit',
    env: {...env, SBQ_TEST_DIALECT: dialect},
  })
  return result.status ?? 1
}

let status = 0
try {
  // Both passes run even when the first fails: which dialect a failure is on is half the diagnosis.
  if (dialects.includes('sqlite')) status = run('sqlite', files) || status
  if (dialects.includes('postgres') && env.SBQ_TEST_POSTGRES && onBothDialects.length > 0)
    status = run('postgres', onBothDialects) || status
} finally {
  if (cluster) stopCluster(cluster.dir)
}
process.exit(status)
