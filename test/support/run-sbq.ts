import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {sbqBin} from './paths.js'
import {dropPostgresDatabase, freshPostgresDatabase, testDialect} from './test-database.js'

export interface SbqResult {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON when it is JSON. */
  json: any
}

/**
 * Runs the real bin/sbq as a user would, against the given database, and never throws for a non-zero exit; `cwd` and
 * `bin` (another copy of bin/sbq) for the tests of where it runs from.
 */
export function runSbq(
  args: string[],
  options: {db: string; env?: NodeJS.ProcessEnv; input?: string; cwd?: string; bin?: string},
): Promise<SbqResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      options.bin ?? sbqBin,
      args,
      {
        env: {...process.env, NO_COLOR: '1', SBQ_DB: options.db, ...options.env},
        cwd: options.cwd,
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error)
          return
        }
        let json: unknown
        try {
          json = JSON.parse(stdout)
        } catch {
          json = undefined
        }
        resolve({code: error ? Number(error.code) : 0, stdout, stderr, json})
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

/**
 * A temp directory and a new database, both removed by `cleanup`: a file in the directory, or on the PostgreSQL pass
 * a new database on the test cluster.
 */
export function tempWorkspace(prefix = 'sbq-test-'): {dir: string; db: string; cleanup: () => void} {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const db = testDialect === 'postgres' ? freshPostgresDatabase() : join(dir, 'sbq.db')
  return {
    dir,
    db,
    cleanup: () => {
      rmSync(dir, {recursive: true, force: true})
      if (testDialect === 'postgres') dropPostgresDatabase(db)
    },
  }
}
