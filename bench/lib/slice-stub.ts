/**
 * The stub V2Ray API as a process, counting a slice of the users: `node slice-stub.js --first F --users N --grow B`
 * serves the counters of user<F> … user<F+N-1> (seeded as the test stub seeds user1 … userN), prints `{"port":P}`
 * and serves until killed. In a fleet, each host's node counts its own users.
 *
 * Each line `{"activeEvery":K}` on its stdin makes every later QueryStats grow only the users whose number is a
 * multiple of K (1: every user), as on a server where only some users are online; it answers `{"activeEvery":K}`.
 */
import {createInterface} from 'node:readline'
import {parseArgs} from 'node:util'

import {StubV2rayApi, seededDownlink, seededUplink} from '../../test/support/stub-v2ray-api.js'

async function main(): Promise<void> {
  const {values} = parseArgs({
    options: {
      first: {type: 'string', default: '1'},
      users: {type: 'string', default: '0'},
      grow: {type: 'string', default: '0'},
    },
  })
  const first = Number(values.first)
  const users = Number(values.users)
  const stub = await StubV2rayApi.start({flavor: 'v2ray', users: 0, growBytes: Number(values.grow)})
  for (let index = first; index < first + users; index++) {
    stub.setCounter(`user>>>user${index}>>>traffic>>>uplink`, seededUplink(index))
    stub.setCounter(`user>>>user${index}>>>traffic>>>downlink`, seededDownlink(index))
  }
  process.stdout.write(`${JSON.stringify({port: stub.port})}\n`)
  createInterface({input: process.stdin}).on('line', (line) => {
    const every = Number((JSON.parse(line) as {activeEvery: unknown}).activeEvery)
    if (!Number.isSafeInteger(every) || every < 1)
      throw new Error(`activeEvery: ${line} is not a positive whole number`)
    stub.growing = every === 1 ? null : new Set(activeCounters(first, users, every))
    process.stdout.write(`${JSON.stringify({activeEvery: every})}\n`)
  })
  const stop = (): void => {
    void stub.close().then(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

function* activeCounters(first: number, users: number, every: number): Generator<string> {
  for (let index = first; index < first + users; index++)
    if (index % every === 0)
      for (const direction of ['uplink', 'downlink']) yield `user>>>user${index}>>>traffic>>>${direction}`
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exit(1)
})
