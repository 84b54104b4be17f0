import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {postgresDialect} from '../../src/lib/db/postgres/postgres-dialect.js'

const location = 'postgres://sbq@db.internal/sbq'

describe("PostgreSQL's failures as one line", () => {
  it('no password for a server that asks for one is exit 2 with where to put it, not a bug in sbq', () => {
    // What node-postgres 8 throws when the server wants SCRAM and the URL, PGPASSWORD and ~/.pgpass give nothing.
    const error = new Error('SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string')
    const failure = postgresDialect.describeFailure(location, error)
    assert.deepEqual(
      [failure?.code, failure?.exit, failure?.message],
      ['DATABASE_UNUSABLE', 2, `database "${location}" needs a password, and sbq was given none`],
    )
    assert.match(failure?.hint ?? '', /PGPASSWORD.*~\/\.pgpass/)
  })

  it('a server that is not there is exit 4, and says sbq changed nothing', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {code: 'ECONNREFUSED'})
    const failure = postgresDialect.describeFailure(location, error)
    assert.deepEqual([failure?.code, failure?.exit], ['DATABASE_UNREACHABLE', 4])
    assert.match(failure?.hint ?? '', /sbq changed nothing/)
  })

  it("any other error is not the database's to describe", () => {
    assert.equal(postgresDialect.describeFailure(location, new Error('boom')), undefined)
  })
})
