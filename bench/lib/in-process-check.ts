/**
 * `sbq serve --check-every`'s check without its start-up: `node in-process-check.js --db DB --warmups W --runs R`
 * opens the database once, as serve does, then runs the check serve's loop runs (runCheck with the same options and a
 * 'check' context, src/lib/serve/run-serve.ts) W + R times back to back, and prints `{"runsMs":[…]}` for the R
 * timed ones. Each check pulls the node, so each bills whoever the stub grew.
 */
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'

import {runCheck} from '../../src/lib/enforcement/run-check.js'
import {openDatabase} from '../../src/lib/db/open-database.js'
import {installTimeZone} from '../../src/lib/settings/settings.js'

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {db: {type: 'string'}, warmups: {type: 'string', default: '1'}, runs: {type: 'string', default: '5'}},
  })
  if (values.db === undefined) throw new Error('give --db')
  const db = await openDatabase(values.db)
  const runsMs: number[] = []
  try {
    const timeZone = await installTimeZone(db)
    const warmups = Number(values.warmups)
    for (let run = 0; run < warmups + Number(values.runs); run++) {
      const started = performance.now()
      const result = await runCheck(
        db,
        {dryRun: false, pull: true, lockWaitMs: 5000},
        {now: Date.now(), timeZone, actor: 'check'},
      )
      const ms = performance.now() - started
      const failed = result.pulls.find((pull) => !pull.ok)
      if (failed !== undefined) throw new Error(`node "${failed.name}" could not be pulled: ${failed.error}`)
      if (result.skipped !== null) throw new Error(`check skipped: ${result.skipped.reason}`)
      if (run >= warmups) runsMs.push(ms)
    }
  } finally {
    await db.destroy()
  }
  process.stdout.write(`${JSON.stringify({runsMs})}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
