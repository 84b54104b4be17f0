import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {floorPartsOf, judgedResult, measuredResult} from '../../bench/lib/bench-results.js'
import {benchDate, floorScenarios, scenarios, type Scenario} from '../../bench/lib/scenarios.js'
import {dialectRatio, floorMs, judge, overallVerdict, type FloorParts} from '../../bench/lib/targets.js'

const parts: FloorParts = {
  startMs: 40,
  pullMs: 60,
  warmPullMs: 20,
  sqlMs: {1: 100, 10: 15},
  warmSqlMs: {1: 80, 10: 10},
}

describe('bench floor', () => {
  it('adds the start, a cold pull and the SQL of the users billed for a whole process', () => {
    assert.equal(floorMs(parts, 'process', 1), 200)
    assert.equal(floorMs(parts, 'process', 10), 115)
  })

  it('leaves the start out and takes the warm parts for the check inside serve', () => {
    assert.equal(floorMs(parts, 'in-process', 1), 100)
  })

  it('has no floor when a part was not measured', () => {
    assert.equal(floorMs({...parts, startMs: null}, 'process', 1), null)
    assert.equal(floorMs(parts, 'process', 100), null)
    assert.equal(floorMs({...parts, startMs: null}, 'in-process', 1), 100)
  })

  it('reads the parts from the floor scenarios, cold medians and warm ones', () => {
    const run = (wallMs: number, warmMs?: number) => ({wallMs, rssKb: null, stdoutBytes: 0, warmMs})
    const results = [
      measuredResult(1000, 'sqlite', [run(40), run(50), run(30)]),
      measuredResult(1000, 'sqlite', [run(60, 20), run(70, 25), run(65, 15)]),
      measuredResult(1000, 'sqlite', [run(100, 80)]),
      undefined,
    ]
    assert.deepEqual(floorPartsOf(floorScenarios.map((scenario, index) => ({scenario, result: results[index]}))), {
      startMs: 40,
      pullMs: 65,
      warmPullMs: 20,
      sqlMs: {1: 100, 10: null},
      warmSqlMs: {1: 80, 10: null},
    })
  })
})

describe('bench targets', () => {
  const measured = {medianMs: 900, rssMb: 240, floorMs: 500, referenceMs: 700}

  it('holds a seconds bound at every size up to 100k, and a size-specific one only there', () => {
    assert.deepEqual(judge({seconds: 1}, 10_000, measured), [{target: '≤ 1 s', verdict: 'PASS'}])
    assert.deepEqual(judge({seconds: 1}, 200_000, measured), [])
    assert.deepEqual(judge({secondsAt: {10_000: 0.35, 100_000: 1}}, 10_000, measured), [
      {target: '≤ 0.35 s', verdict: 'MISS'},
    ])
    assert.deepEqual(judge({secondsAt: {100_000: 1}}, 1000, measured), [])
  })

  it('judges the multiple of the floor and peak RSS at the sizes named', () => {
    const bounds = {floorMultipleAt: {100_000: 2}, rssMbAt: {100_000: 250}}
    assert.deepEqual(judge(bounds, 100_000, measured), [
      {target: '≤ 2× floor', verdict: 'PASS'},
      {target: 'RSS < 250 MB', verdict: 'PASS'},
    ])
    assert.deepEqual(judge(bounds, 100_000, {...measured, medianMs: 1001, rssMb: 250}), [
      {target: '≤ 2× floor', verdict: 'MISS'},
      {target: 'RSS < 250 MB', verdict: 'MISS'},
    ])
  })

  it('misses a bound whose measure is missing rather than passing it', () => {
    assert.deepEqual(
      judge({floorMultipleAt: {1000: 2}, rssMbAt: {1000: 250}}, 1000, {...measured, floorMs: null, rssMb: null}),
      [
        {target: '≤ 2× floor', verdict: 'MISS'},
        {target: 'RSS < 250 MB', verdict: 'MISS'},
      ],
    )
  })

  it('judges a scenario against another at the same size', () => {
    const bounds = {relativeTo: {scenario: 'check, every user active', multiple: 1.5}}
    assert.equal(judge(bounds, 1000, measured)[0]!.verdict, 'PASS')
    assert.equal(judge(bounds, 1000, {...measured, referenceMs: 500})[0]!.verdict, 'MISS')
    assert.equal(judge(bounds, 1000, {...measured, referenceMs: null})[0]!.verdict, 'MISS')
  })

  it('sums the verdicts: any miss is a miss, none is no verdict', () => {
    assert.equal(overallVerdict([]), null)
    assert.equal(overallVerdict([{target: 'a', verdict: 'PASS'}]), 'PASS')
    assert.equal(
      overallVerdict([
        {target: 'a', verdict: 'PASS'},
        {target: 'b', verdict: 'MISS'},
      ]),
      'MISS',
    )
  })

  it('holds PostgreSQL within 1.5x of SQLite', () => {
    assert.deepEqual(dialectRatio(1000, 1500), {ratio: 1.5, verdict: 'PASS'})
    assert.equal(dialectRatio(1000, 1501)?.verdict, 'MISS')
    assert.equal(dialectRatio(null, 1500), null)
  })

  it('fills in a result its floor, ratio and verdict', () => {
    const scenario = scenarios.find((candidate) => candidate.name === 'check, every user active') as Scenario
    const result = measuredResult(100_000, 'sqlite', [{wallMs: 450, rssKb: 200 * 1024, stdoutBytes: 0}])
    const judged = judgedResult(scenario, result, parts, null)
    assert.equal(judged.floorMs, 200)
    assert.equal(judged.floorRatio, 2.25)
    assert.equal(judged.verdict, 'MISS')
    assert.deepEqual(
      judged.judged.map((judgement) => judgement.verdict),
      ['MISS', 'PASS'],
    )
  })
})

describe('bench clock', () => {
  it('puts a run on a day of a later month at noon UTC, across the year', () => {
    assert.equal(benchDate(new Date('2026-12-04T06:00:00Z'), 1, 2), '2027-01-02T12:00:00.000Z')
    assert.equal(benchDate(new Date('2026-11-30T23:00:00Z'), 2, 1), '2027-01-01T12:00:00.000Z')
  })
})
