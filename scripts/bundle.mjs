#!/usr/bin/env node
// Bundles the compiled commands (dist/src) into a few ESM chunks under dist/bundle, which bin/sbq loads through
// oclif's explicit command list. Why: sbq runs from cron every minute, and Node spends most of a short command's
// time resolving and compiling hundreds of small module files (Kysely alone is ~280); one chunk per lazily loaded
// piece starts several times faster. @oclif/core is bundled too (bin/sbq enters through dist/bundle/cli.js), and
// the output is minified because parsing is the rest of a short command's start-up. better-sqlite3 stays outside (a
// native addon), as do the TypeScript loaders oclif only looks for in development.
import {rmSync} from 'node:fs'

import {build} from 'esbuild'

// Chunk names carry content hashes: start clean so stale chunks never pile up.
rmSync('dist/bundle', {recursive: true, force: true})

await build({
  entryPoints: {commands: 'dist/src/commands/index.js', cli: 'dist/src/cli.js'},
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'typescript', 'ts-node', 'tsx', 'tsx/*', 'pnpapi'],
  // SBQ_NO_MINIFY=1 keeps function names readable in CPU profiles.
  minify: process.env.SBQ_NO_MINIFY === undefined,
  // Error classes and commands keep their names in messages and stack traces.
  keepNames: true,
  // CommonJS dependencies bundled into ESM still call require() for Node's built-in modules.
  banner: {js: "import {createRequire as __sbqCreateRequire} from 'node:module'; const require = __sbqCreateRequire(import.meta.url);"},
  sourcemap: 'linked',
  logLevel: 'warning',
})
