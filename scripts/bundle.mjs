#!/usr/bin/env node
// Bundles the compiled commands (dist/src) into a few ESM chunks under dist/bundle, which bin/sbq loads through
// oclif's explicit command list. Why: sbq runs from cron every minute, and Node spends most of a short command's
// time resolving and compiling hundreds of small module files (Kysely alone is ~280); one chunk per lazily loaded
// piece starts several times faster. @oclif/core stays outside (oclif loads its own files by path), and so does
// better-sqlite3 (a native addon).
import {rmSync} from 'node:fs'

import {build} from 'esbuild'

// Chunk names carry content hashes: start clean so stale chunks never pile up.
rmSync('dist/bundle', {recursive: true, force: true})

await build({
  entryPoints: {commands: 'dist/src/commands/index.js'},
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@oclif/core', 'better-sqlite3'],
  // CommonJS dependencies bundled into ESM still call require() for Node's built-in modules.
  banner: {js: "import {createRequire as __sbqCreateRequire} from 'node:module'; const require = __sbqCreateRequire(import.meta.url);"},
  sourcemap: 'linked',
  logLevel: 'warning',
})
