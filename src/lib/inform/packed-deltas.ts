import type {TrafficDelta} from '../domain/counter-deltas.js'
import {yieldToEventLoop} from '../db/batched-upsert.js'

/**
 * One side of a parsed report as it crosses threads: every name in one string with where each ends, and the bytes in
 * typed arrays, all of which move without a copy. An array of 150k strings would be copied string by string on the
 * main thread; one string and offsets are cut there in slices, between which the event loop runs.
 */
export interface PackedDeltas {
  names: string
  ends: Uint32Array
  up: Float64Array
  down: Float64Array
}

export type ParserRequest = {id: number; body: Uint8Array}
export type ParserAnswer =
  | {id: number; clients: PackedDeltas; inbounds: PackedDeltas}
  | {id: number; refused: string}
  | {id: number; failed: string}

/** How many names are unpacked between two turns of the event loop. */
const namesBetweenYields = 5000

/** Rows with no traffic are left out: nothing records them, and 3x-ui sends every client every time. */
export function packDeltas(deltas: ReadonlyMap<string, TrafficDelta>): PackedDeltas {
  const names: string[] = []
  const ends: number[] = []
  const up: number[] = []
  const down: number[] = []
  let end = 0
  for (const [name, delta] of deltas) {
    if (delta.up === 0 && delta.down === 0) continue
    names.push(name)
    end += name.length
    ends.push(end)
    up.push(delta.up)
    down.push(delta.down)
  }
  return {names: names.join(''), ends: Uint32Array.from(ends), up: Float64Array.from(up), down: Float64Array.from(down)}
}

export async function unpackDeltas(packed: PackedDeltas): Promise<Map<string, TrafficDelta>> {
  const deltas = new Map<string, TrafficDelta>()
  let start = 0
  for (let index = 0; index < packed.ends.length; index++) {
    if (index > 0 && index % namesBetweenYields === 0) await yieldToEventLoop()
    const end = packed.ends[index]!
    deltas.set(packed.names.slice(start, end), {up: packed.up[index]!, down: packed.down[index]!})
    start = end
  }
  return deltas
}

export function transferables(packed: PackedDeltas): ArrayBuffer[] {
  return [packed.ends.buffer as ArrayBuffer, packed.up.buffer as ArrayBuffer, packed.down.buffer as ArrayBuffer]
}
