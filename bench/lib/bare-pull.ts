/**
 * A floor of `npm run bench`: the least any client pays for one pull of the node. `node bare-pull.js --api H:P`
 * connects, asks the stub for every counter with the QueryStats request sbq sends, decodes the reply with sbq's own
 * decoder, and does that `--repeat` times, each on a new connection (as each check of `sbq serve` connects anew).
 * Prints `{"ms":…,"warmMs":…,"counters":…}`: the first pull (a fresh process's, as a cron job's `sbq check`) and the
 * median of the later ones (a long-running process's), each from connecting to the decoded reply, Node's start left
 * out (the bench times that on its own).
 */
import * as grpc from '@grpc/grpc-js'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'

import {summarise} from './statistics.js'

import {flavorNames} from '../../src/lib/proxies/shared/v2ray-api/flavor.js'
import {decodeQueryStatsResponse, encodeQueryStatsRequest} from '../../src/lib/proxies/shared/v2ray-api/messages.js'

async function main(): Promise<void> {
  const {values} = parseArgs({options: {api: {type: 'string'}, repeat: {type: 'string', default: '4'}}})
  if (values.api === undefined) throw new Error('give --api HOST:PORT')
  const times: number[] = []
  let counters = 0
  for (let pull = 0; pull < Math.max(2, Number(values.repeat)); pull++) {
    const started = performance.now()
    counters = await pullOnce(values.api)
    times.push(performance.now() - started)
  }
  const [ms, ...warm] = times
  process.stdout.write(`${JSON.stringify({ms, warmMs: summarise(warm).median, counters})}\n`)
}

/** One pull on a new connection; returns how many counters the reply held. */
async function pullOnce(api: string): Promise<number> {
  const request = encodeQueryStatsRequest({pattern: '', reset: false})
  const identity = (bytes: Buffer): Buffer => bytes
  const client = new grpc.Client(api, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  })
  const reply = await new Promise<Buffer>((resolve, reject) =>
    client.makeUnaryRequest(
      `/${flavorNames('v2ray').statsService}/QueryStats`,
      identity,
      identity,
      request,
      (error: grpc.ServiceError | null, value?: Buffer) => (error ? reject(error) : resolve(value ?? Buffer.alloc(0))),
    ),
  )
  const counters = decodeQueryStatsResponse(reply).length
  client.close()
  return counters
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
