import assert from 'node:assert/strict'
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'

import {passwordFor} from '../../src/lib/db/postgres/password-file.js'

describe('the PostgreSQL password file, read as libpq reads it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbq-pgpass-'))
  after(() => rmSync(dir, {recursive: true, force: true}))
  const key = {host: 'db.internal', port: 5432, database: 'sbq', user: 'sbq'}
  const file = (text: string, mode = 0o600) => {
    const path = join(dir, `pgpass-${Math.random().toString(36).slice(2)}`)
    writeFileSync(path, text)
    chmodSync(path, mode)
    return {PGPASSFILE: path}
  }

  it('takes the first line whose fields match, * matching anything', () => {
    const env = file(
      [
        '# comment',
        'other.host:5432:sbq:sbq:wrong-host',
        'db.internal:6432:sbq:sbq:wrong-port',
        'db.internal:*:sbq:sbq:first',
        '*:*:*:*:catch-all',
      ].join('\n'),
    )
    assert.equal(passwordFor(key, env), 'first')
    assert.equal(passwordFor({...key, user: 'admin'}, env), 'catch-all')
  })

  it('reads \\: and \\\\ as a colon and a backslash, and the rest of the line as the password', () => {
    const env = file('db\\:internal:5432:sbq:sbq:pa\\\\ss:word\n')
    assert.equal(passwordFor({...key, host: 'db:internal'}, env), 'pa\\ss:word')
  })

  it('PGPASSWORD comes first; a file others can read, or none, gives nothing', () => {
    const env = file('*:*:*:*:from-file\n')
    assert.equal(passwordFor(key, {...env, PGPASSWORD: 'from-env'}), 'from-env')
    assert.equal(passwordFor(key, file('*:*:*:*:from-file\n', 0o644)), undefined)
    assert.equal(passwordFor(key, {PGPASSFILE: join(dir, 'missing')}), undefined)
    assert.equal(passwordFor(key, {HOME: dir}), undefined)
  })
})
