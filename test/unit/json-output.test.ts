import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {writeCompactJson} from '../../src/lib/output/json-output.js'

function written(value: unknown): {text: string; writes: number} {
  const pieces: string[] = []
  writeCompactJson(value, (text) => pieces.push(text))
  return {text: pieces.join(''), writes: pieces.length}
}

describe('compact JSON output', () => {
  it('writes exactly what JSON.stringify gives, long arrays in pieces', () => {
    const rows = Array.from({length: 4500}, (_, index) => ({
      name: `user${index}`,
      up: index * 1024,
      percent: index % 3 === 0 ? null : index / 7,
      at: new Date(index),
    }))
    const report = {
      kind: 'users',
      rows,
      users: rows.length,
      skipped: undefined,
      totals: {up: 1, down: 2},
      empty: [],
      holes: [1, undefined, () => 1],
    }
    const {text, writes} = written(report)
    assert.equal(text, JSON.stringify(report))
    assert.ok(writes > 5, `a 4,500-row array should go out in several pieces, went in ${writes} writes`)
  })

  it('keeps the exact text at and around the piece size', () => {
    for (const length of [1999, 2000, 2001, 4000, 4001]) {
      const value = {rows: Array.from({length}, (_, index) => index), after: 'x'}
      assert.equal(written(value).text, JSON.stringify(value), `length ${length}`)
    }
  })

  it('writes a long array given as the value in pieces too', () => {
    const users = Array.from({length: 2500}, (_, index) => ({name: `user${index}`, note: index % 2 ? null : 'a "b"'}))
    const {text, writes} = written(users)
    assert.equal(text, JSON.stringify(users))
    assert.ok(writes > 1)
  })

  it("hands a member's toJSON its key, as JSON.stringify does", () => {
    const keyed = {toJSON: (key: string) => `under ${key}`}
    const value = {first: keyed, second: {inner: keyed}, rows: Array.from({length: 2100}, (_, index) => index)}
    assert.equal(written(value).text, JSON.stringify(value))
  })

  it('writes anything else whole, as JSON.stringify does', () => {
    const dated = {toJSON: () => ({when: 'now'})}
    for (const value of [
      [1, 2, {a: 'b'}],
      'text "quoted"',
      42,
      null,
      dated,
      new Date(0),
      Object.assign(Object.create(null), {a: 1}),
    ]) {
      assert.equal(written(value).text, JSON.stringify(value))
    }
  })
})
