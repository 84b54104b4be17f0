#!/usr/bin/env node
// Bundles the compiled CLI (dist/src) into ONE CommonJS file, dist/bundle/sbq.cjs, and records V8's compiled code for
// it in dist/bundle/sbq.cjs.<key>.cache, which bin/sbq hands back to V8 on every start. Why: sbq runs from cron every
// minute, and a short command's time is mostly Node loading it. Hundreds of small module files (Kysely alone is
// ~280) cost resolving and reading each; one file costs one read. What is left is compiling ~2 MB of JavaScript,
// which Node 20 redoes on every start: it keeps no compile cache of its own (that came in Node 22), and V8 can only
// be handed a cache for a classic script, not for an ES module, hence CommonJS. Lazily loaded parts (the dashboard,
// the gRPC client) stay lazy: esbuild runs a module's body only when its import() is reached. better-sqlite3 stays
// outside (a native addon), as do the TypeScript loaders oclif only looks for in development.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {build} from 'esbuild'

// Stale bundles and caches must never be picked up.
rmSync('dist/bundle', {recursive: true, force: true})

await build({
  entryPoints: ['dist/src/cli.js'],
  outfile: 'dist/bundle/sbq.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'typescript', 'ts-node', 'tsx', 'tsx/*', 'pnpapi'],
  // Every import() becomes require(): Node 20 runs an import() in a script compiled from a code cache only with an
  // experimental flag. The ones left after bundling load built-in modules, or ES-module plugins and TypeScript
  // sources, which sbq does not have.
  supported: {'dynamic-import': false},
  // import.meta does not exist in CommonJS; the code that asks for its own location gets the bundle's.
  define: {'import.meta.url': 'importMetaUrl'},
  banner: {js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;"},
  // SBQ_NO_MINIFY=1 keeps function names readable in CPU profiles.
  minify: process.env.SBQ_NO_MINIFY === undefined,
  // Error classes and commands keep their names in messages and stack traces.
  keepNames: true,
  sourcemap: 'linked',
  logLevel: 'warning',
})

// sbq serve parses big 3x-ui reports on a worker thread, which loads a file of its own: it sits beside the bundle,
// where the bundled code looks for it (new URL('./inform-parser-worker.js', import.meta.url)), as an ES module
// (package.json says "type": "module").
await build({
  entryPoints: ['dist/src/lib/inform/inform-parser-worker.js'],
  outfile: 'dist/bundle/inform-parser-worker.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: process.env.SBQ_NO_MINIFY === undefined,
  keepNames: true,
  logLevel: 'warning',
})

// One run of a command that opens a database and reads it writes the cache (bin/sbq writes one whenever it finds
// none), so the code every command shares, from oclif to Kysely, starts compiled.
const scratch = mkdtempSync(join(tmpdir(), 'sbq-bundle-'))
try {
  const warmUp = spawnSync(process.execPath, ['bin/sbq', 'report', '--json'], {
    env: {...process.env, SBQ_DB: join(scratch, 'sbq.db')},
    encoding: 'utf8',
  })
  if (warmUp.status !== 0)
    throw new Error(`bin/sbq report (to write the code cache) failed: ${warmUp.stderr || warmUp.stdout}`)
} finally {
  rmSync(scratch, {recursive: true, force: true})
}
