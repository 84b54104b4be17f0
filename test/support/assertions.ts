import assert from 'node:assert/strict'

import {SbqError} from '../../src/lib/errors.js'
import type {SbqResult} from './run-sbq.js'

/** For assert.throws/rejects: the error is sbq's own, with this code and exit status (and message, when given). */
export function rejectsWith(code: string, exit: number, pattern?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof SbqError, `expected SbqError, got ${String(error)}`)
    assert.equal(error.code, code)
    assert.equal(error.exit, exit)
    if (pattern) assert.match(error.message, pattern)
    return true
  }
}

/** A `--json` failure of the real bin/sbq: the documented exit code and error shape on stdout, nothing on stderr. */
export function assertJsonError(result: SbqResult, exit: number, code: string, pattern: RegExp): void {
  assert.equal(result.code, exit, result.stderr)
  assert.equal(result.json.error.code, code)
  assert.match(result.json.error.message, pattern)
  assert.equal(typeof result.json.error.hint, 'string')
  assert.equal(result.stderr, '')
}
