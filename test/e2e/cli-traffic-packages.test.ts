import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {assertJsonError} from '../support/assertions.js'
import {xrayStubNode} from '../support/xray-stub-node.js'

const GiB = 1024 ** 3

describe('traffic packages: quota topup --valid, spent after the allowance and kept across resets (real bin/sbq)', () => {
  const may = '2024-05-10T12:00:00Z'
  let lab: Awaited<ReturnType<typeof xrayStubNode>>
  const sbqAt = (now: string, ...args: string[]) => lab.sbqAt(now, ...args)
  const userAt = (now: string, name: string) => lab.userAt(now, name)
  const checkAt = async (now: string) => {
    const result = await sbqAt(now, 'check', '--json')
    assert.equal(result.code, 0, result.stderr)
  }

  before(async () => {
    lab = await xrayStubNode('sbq-packages-', {now: may, timeZone: 'UTC'})
    for (const name of ['pat', 'kim']) assert.equal((await sbqAt(may, 'user', 'add', name, '--monthly', '1')).code, 0)
  })

  after(() => lab.close())

  it('a package is bought with its validity; the period allowance stays what it was', async () => {
    const bought = await sbqAt(may, 'quota', 'topup', 'pat', '2G', '--valid', '90d', '--note', 'order 17', '--json')
    assert.equal(bought.code, 0, bought.stderr)
    assert.deepEqual([bought.json.allowance, bought.json.topups, bought.json.packagesLeft], [GiB, 0, 2 * GiB])
    const pat = await userAt(may, 'pat')
    assert.deepEqual(pat.packages, [
      {
        at: '2024-05-10T12:00:00.000Z',
        bytes: 2 * GiB,
        used: 0,
        left: 2 * GiB,
        validUntil: '2024-08-08T12:00:00.000Z',
        state: 'open',
        usedUpAt: null,
        note: 'order 17',
      },
    ])
    assert.match((await sbqAt(may, 'user', 'show', 'pat')).stdout, /monthly quota\s+1\.0 GiB \+ 2\.0 GiB in packages/)
  })

  it('bytes past the allowance come out of the package; the user is limited only when it is used up', async () => {
    lab.stub.addTraffic('pat', 0, 1.5 * GiB)
    await checkAt('2024-05-11T00:00:00Z')
    let pat = await userAt('2024-05-11T00:00:00Z', 'pat')
    assert.deepEqual([pat.status, pat.periodUsed, pat.packagesLeft], ['active', 1.5 * GiB, 1.5 * GiB])
    assert.equal(pat.packages[0].used, 0.5 * GiB)

    lab.stub.addTraffic('pat', 0, 2 * GiB)
    await checkAt('2024-05-12T00:00:00Z')
    pat = await userAt('2024-05-12T00:00:00Z', 'pat')
    assert.deepEqual([pat.status, pat.packagesLeft], ['limited', 0])
    assert.deepEqual(
      [pat.packages[0].used, pat.packages[0].state, pat.packages[0].usedUpAt],
      [2 * GiB, 'used up', '2024-05-12T00:00:00.000Z'],
    )
    assert.ok(pat.events.some((event: {kind: string; reason: string}) => event.reason === '1 traffic package used up'))
    await checkAt('2024-06-01T00:00:00Z')
    assert.equal((await userAt('2024-06-01T00:00:00Z', 'pat')).status, 'active', 'a new period, a new allowance')
  })

  it('what is left of a package carries into the next period; a plain top-up does not', async () => {
    assert.equal((await sbqAt(may, 'quota', 'topup', 'kim', '5G', '--valid', '2024-07-15')).code, 0)
    assert.equal((await sbqAt(may, 'quota', 'topup', 'kim', '1G')).code, 0)
    lab.stub.addTraffic('kim', 0, 2.5 * GiB)
    await checkAt('2024-05-20T00:00:00Z')
    let kim = await userAt('2024-05-20T00:00:00Z', 'kim')
    assert.deepEqual([kim.allowance, kim.packagesLeft], [2 * GiB, 4.5 * GiB], '1 + 1 top-up; 0.5 spent of 5')

    lab.stub.addTraffic('kim', 0, 1.25 * GiB)
    await checkAt('2024-06-02T00:00:00Z')
    kim = await userAt('2024-06-02T00:00:00Z', 'kim')
    assert.deepEqual(
      [kim.status, kim.allowance, kim.periodUsed, kim.packagesLeft],
      ['active', GiB, 1.25 * GiB, 4.25 * GiB],
      "June: the top-up stayed in May, the package's 4.5 left came along",
    )
  })

  it('a package past its validity is spent no more: the user over the allowance is limited', async () => {
    const july = '2024-07-16T00:00:00Z'
    await checkAt(july)
    const kim = await userAt(july, 'kim')
    assert.deepEqual([kim.packagesLeft, kim.packages[0].state], [0, 'expired'])
    lab.stub.addTraffic('kim', 0, 1.5 * GiB)
    await checkAt('2024-07-16T01:00:00Z')
    assert.equal((await userAt('2024-07-16T01:00:00Z', 'kim')).status, 'limited')
  })

  it('refuses a validity that is not after now, buying nothing', async () => {
    assertJsonError(
      await sbqAt(may, 'quota', 'topup', 'kim', '1G', '--valid', '2024-01-01', '--json'),
      2,
      'INVALID_EXPIRY',
      /^--valid "2024-01-01" is not a time after now$/,
    )
    assert.equal((await userAt(may, 'kim')).packages.length, 1)
  })
})
