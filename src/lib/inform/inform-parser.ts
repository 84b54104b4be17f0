import {Worker} from 'node:worker_threads'

import {InformPayloadError, parseInformPayload, type InformPayload} from './inform-payload.js'
import {unpackDeltas, type PackedDeltas, type ParserAnswer, type ParserRequest} from './packed-deltas.js'

async function unpack(clients: PackedDeltas, inbounds: PackedDeltas): Promise<InformPayload> {
  return {clients: await unpackDeltas(clients), inbounds: await unpackDeltas(inbounds)}
}

/** Bodies up to this size are parsed at once: a thread round trip costs more than they take. */
const inlineLimit = 256 * 1024

/**
 * Parses 3x-ui reports for `sbq serve`. A big one (3x-ui sends every client every 5 s: 40 MB at 150k clients) takes
 * JSON.parse and the checks half a second or more, which on the main thread would stall /healthz and every other
 * node's report; those go to one worker thread, started on first use, one report at a time.
 */
export class InformParser {
  private worker: Worker | null = null
  private readonly waiting = new Map<
    number,
    {resolve: (payload: InformPayload) => void; reject: (error: Error) => void}
  >()
  private nextId = 0

  /** The checked report; throws InformPayloadError for a body the sender got wrong. */
  async parse(body: Buffer): Promise<InformPayload> {
    if (body.length <= inlineLimit) return parseInformPayload(body.toString('utf8'))
    const worker = this.worker ?? this.start()
    const id = this.nextId++
    // The body's memory is handed over, not copied; a Buffer sharing a pooled slab is copied first.
    const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : Buffer.from(body)
    return new Promise((resolve, reject) => {
      this.waiting.set(id, {resolve, reject})
      const request: ParserRequest = {id, body: owned}
      worker.postMessage(request, [owned.buffer as ArrayBuffer])
    })
  }

  async close(): Promise<void> {
    const worker = this.worker
    this.worker = null
    if (worker) await worker.terminate()
  }

  private start(): Worker {
    const worker = new Worker(new URL('./inform-parser-worker.js', import.meta.url))
    // A parser waiting for work never keeps sbq serve from exiting.
    worker.unref()
    worker.on('message', (answer: ParserAnswer) => {
      const waiter = this.waiting.get(answer.id)
      if (!waiter) return
      this.waiting.delete(answer.id)
      if ('clients' in answer) void unpack(answer.clients, answer.inbounds).then(waiter.resolve, waiter.reject)
      else if ('refused' in answer) waiter.reject(new InformPayloadError(answer.refused))
      else waiter.reject(new Error(`the report parser failed: ${answer.failed}`))
    })
    const stopped = (why: string): void => {
      if (this.worker === worker) this.worker = null
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`the report parser stopped: ${why}`))
      this.waiting.clear()
    }
    worker.on('error', (error) => stopped(error.message))
    worker.on('exit', (code) => stopped(`exit code ${code}`))
    this.worker = worker
    return worker
  }
}
