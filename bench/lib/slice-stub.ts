/**
 * The stub V2Ray API as a process, counting a slice of the users: `node slice-stub.js --first F --users N --grow B`
 * serves the counters of user<F> … user<F+N-1> (seeded as the test stub seeds user1 … userN), prints `{"port":P}`
 * and serves until killed. In a fleet, each host's node counts its own users.
 */
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
  const stub = await StubV2rayApi.start({flavor: 'v2ray', users: 0, growBytes: Number(values.grow)})
  for (let index = first; index < first + Number(values.users); index++) {
    stub.setCounter(`user>>>user${index}>>>traffic>>>uplink`, seededUplink(index))
    stub.setCounter(`user>>>user${index}>>>traffic>>>downlink`, seededDownlink(index))
  }
  process.stdout.write(`${JSON.stringify({port: stub.port})}\n`)
  const stop = (): void => {
    void stub.close().then(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exit(1)
})
