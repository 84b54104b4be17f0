// The thread InformParser (inform-parser.ts) hands big reports to: scripts/bundle.mjs builds it as its own file.
import {parentPort} from 'node:worker_threads'

import {InformPayloadError, parseInformPayload} from './inform-payload.js'
import {packDeltas, transferables, type ParserAnswer, type ParserRequest} from './packed-deltas.js'

const decoder = new TextDecoder()

parentPort?.on('message', ({id, body}: ParserRequest) => {
  let answer: ParserAnswer
  try {
    const payload = parseInformPayload(decoder.decode(body))
    answer = {id, clients: packDeltas(payload.clients), inbounds: packDeltas(payload.inbounds)}
  } catch (error) {
    answer = error instanceof InformPayloadError ? {id, refused: error.message} : {id, failed: (error as Error).message}
  }
  parentPort!.postMessage(
    answer,
    'clients' in answer ? [...transferables(answer.clients), ...transferables(answer.inbounds)] : [],
  )
})
