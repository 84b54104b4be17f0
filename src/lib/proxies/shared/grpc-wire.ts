/**
 * A minimal protobuf wire codec: just what the V2Ray-family gRPC API needs (varints, length-delimited fields).
 * Hand-written instead of protobufjs so a 100k-user stats reply decodes in one tight pass, and so 64-bit counters
 * are never squeezed through a float: anything above Number.MAX_SAFE_INTEGER is refused, not rounded.
 */

export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  startGroup: 3,
  endGroup: 4,
  fixed32: 5,
} as const

export type WireTypeValue = (typeof WireType)[keyof typeof WireType]

/** The bytes do not form a valid message of the expected shape. */
export class WireFormatError extends Error {
  override name = 'WireFormatError'
}

/** A well-formed 64-bit integer that a JS number cannot hold exactly (above 2^53-1, or negative). */
export class WireRangeError extends WireFormatError {
  override name = 'WireRangeError'
  readonly value: bigint

  constructor(message: string, value: bigint) {
    super(message)
    this.value = value
  }
}

const utf8Encoder = new TextEncoder()

export class ProtoWriter {
  private buffer: Uint8Array
  private length = 0

  constructor(initialCapacity = 256) {
    this.buffer = new Uint8Array(initialCapacity)
  }

  private reserve(extra: number): void {
    const needed = this.length + extra
    if (needed <= this.buffer.length) return
    let capacity = this.buffer.length * 2
    while (capacity < needed) capacity *= 2
    const grown = new Uint8Array(capacity)
    grown.set(this.buffer.subarray(0, this.length))
    this.buffer = grown
  }

  private tag(field: number, wireType: WireTypeValue): void {
    this.rawVarint(field * 8 + wireType)
  }

  /** Writes a non-negative safe integer as a varint. */
  rawVarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`varint value "${value}" is not a non-negative safe integer`)
    }
    this.reserve(10)
    let rest = value
    // Division keeps values above 2^32 exact, where bitwise operators would truncate them.
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80
      rest = Math.floor(rest / 0x80)
    }
    this.buffer[this.length++] = rest
  }

  /** A uint32/uint64/int64 field holding a non-negative value; zero is omitted as proto3 does. */
  uint(field: number, value: number): this {
    if (value === 0) return this
    this.tag(field, WireType.varint)
    this.rawVarint(value)
    return this
  }

  /** Any 64-bit value, including those above 2^53 and negative int64s (two's complement, 10 bytes). */
  int64Big(field: number, value: bigint): this {
    if (value === 0n) return this
    this.tag(field, WireType.varint)
    let rest = BigInt.asUintN(64, value)
    this.reserve(10)
    while (rest >= 0x80n) {
      this.buffer[this.length++] = Number(rest & 0x7fn) | 0x80
      rest >>= 7n
    }
    this.buffer[this.length++] = Number(rest)
    return this
  }

  bool(field: number, value: boolean): this {
    return this.uint(field, value ? 1 : 0)
  }

  string(field: number, value: string): this {
    if (value === '') return this
    this.tag(field, WireType.lengthDelimited)
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const maxBytes = value.length * 3
    this.reserve(maxBytes + 5)
    const lengthAt = this.length
    const lengthBytes = varintSize(maxBytes)
    const {written} = utf8Encoder.encodeInto(value, this.buffer.subarray(lengthAt + lengthBytes))
    this.finishLength(lengthAt, lengthBytes, written)
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    if (value.length === 0) return this
    this.tag(field, WireType.lengthDelimited)
    this.rawVarint(value.length)
    this.reserve(value.length)
    this.buffer.set(value, this.length)
    this.length += value.length
    return this
  }

  /** An embedded message, written in place (no intermediate buffer); written even when empty. */
  message(field: number, write: (writer: this) => void): this {
    this.tag(field, WireType.lengthDelimited)
    this.reserve(1)
    const lengthAt = this.length
    this.length += 1
    write(this)
    this.finishLength(lengthAt, 1, this.length - lengthAt - 1)
    return this
  }

  /** Writes `size` as a varint at `lengthAt`, where `reserved` bytes were left for it before the content. */
  private finishLength(lengthAt: number, reserved: number, size: number): void {
    const needed = varintSize(size)
    const contentAt = lengthAt + reserved
    if (needed !== reserved) {
      this.reserve(needed - reserved)
      this.buffer.copyWithin(lengthAt + needed, contentAt, contentAt + size)
    }
    let at = lengthAt
    let rest = size
    while (rest >= 0x80) {
      this.buffer[at++] = (rest & 0x7f) | 0x80
      rest >>>= 7
    }
    this.buffer[at] = rest
    this.length = lengthAt + needed + size
  }

  finish(): Buffer {
    return Buffer.from(this.buffer.buffer, this.buffer.byteOffset, this.length)
  }
}

export function varintSize(value: number): number {
  let size = 1
  let rest = value
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80)
    size++
  }
  return size
}

/**
 * Buffer's own `utf8Slice` skips `toString`'s argument normalisation, about 15% of a 200k-name decode. It is not in
 * Node's typings but has been on Buffer.prototype in every release; the fallback keeps this correct if it goes.
 */
type FastUtf8Buffer = Buffer & {utf8Slice?: (start: number, end: number) => string}

const hasUtf8Slice = typeof (Buffer.prototype as FastUtf8Buffer).utf8Slice === 'function'

function decodeUtf8(bytes: Buffer, start: number, end: number): string {
  const fast = bytes as FastUtf8Buffer
  if (hasUtf8Slice && fast.utf8Slice !== undefined) return fast.utf8Slice(start, end)
  return bytes.toString('utf8', start, end)
}

export class ProtoReader {
  readonly bytes: Buffer
  pos: number
  readonly end: number

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
    this.pos = start
    this.end = end
  }

  get done(): boolean {
    return this.pos >= this.end
  }

  private byte(): number {
    if (this.pos >= this.end) throw new WireFormatError('message ends inside a field')
    return this.bytes[this.pos++] as number
  }

  /** Returns the field tag (field number * 8 + wire type); split it with `>>> 3` and `& 7`. */
  tag(): number {
    const tag = this.uint32()
    if (tag >>> 3 === 0) throw new WireFormatError('field number 0 is not valid')
    return tag
  }

  /** A varint as uint32: bits above 32 are dropped, as protobuf does for uint32/enum/bool. */
  uint32(): number {
    let value = 0
    let shift = 0
    for (let index = 0; index < 10; index++) {
      const byte = this.byte()
      if (shift < 32) value |= (byte & 0x7f) << shift
      shift += 7
      if (byte < 0x80) return value >>> 0
    }
    throw new WireFormatError('varint longer than 10 bytes')
  }

  bool(): boolean {
    return this.uint32() !== 0
  }

  /**
   * A uint64/int64 varint as an exact JS number. Values above Number.MAX_SAFE_INTEGER (and negative int64s, which
   * arrive as huge unsigned values) throw WireRangeError rather than lose precision.
   */
  safeInteger(): number {
    const start = this.pos
    let value = 0
    let scale = 1
    for (let index = 0; index < 10; index++) {
      const byte = this.byte()
      const bits = byte & 0x7f
      // Bytes 0..6 carry bits 0..48; byte 7 carries 49..55, of which only 49..52 fit below 2^53.
      if ((index === 7 && bits >= 0x10) || (index > 7 && bits !== 0)) {
        this.pos = start
        const big = this.bigUint64()
        const signed = BigInt.asIntN(64, big)
        throw new WireRangeError(
          signed < 0n
            ? `integer "${signed}" is negative where a byte count was expected`
            : `integer "${big}" is above 2^53-1 and cannot be held exactly`,
          signed < 0n ? signed : big,
        )
      }
      value += bits * scale
      scale *= 0x80
      if (byte < 0x80) return value
    }
    throw new WireFormatError('varint longer than 10 bytes')
  }

  /** A varint as an unsigned 64-bit bigint (for the rare caller that wants the raw value). */
  bigUint64(): bigint {
    let low = 0
    let high = 0
    for (let index = 0; index < 10; index++) {
      const byte = this.byte()
      const bits = byte & 0x7f
      if (index < 4) {
        low += bits * 2 ** (7 * index)
      } else if (index === 4) {
        // Byte 4 straddles the halves: its low 4 bits end the low word, the rest start the high word.
        low += (bits & 0x0f) * 2 ** 28
        high += bits >>> 4
      } else {
        high += bits * 2 ** (7 * index - 32)
      }
      if (byte < 0x80) return BigInt.asUintN(64, (BigInt(high) << 32n) + BigInt(low))
    }
    throw new WireFormatError('varint longer than 10 bytes')
  }

  /** Reads a length prefix and returns the end offset of the field's content, which starts at `pos`. */
  lengthDelimitedEnd(): number {
    const length = this.uint32()
    const end = this.pos + length
    if (end > this.end) throw new WireFormatError(`length ${length} runs past the end of the message`)
    return end
  }

  string(): string {
    const end = this.lengthDelimitedEnd()
    const text = decodeUtf8(this.bytes, this.pos, end)
    this.pos = end
    return text
  }

  bytesField(): Buffer {
    const end = this.lengthDelimitedEnd()
    const slice = this.bytes.subarray(this.pos, end)
    this.pos = end
    return slice
  }

  /** A reader over an embedded message; the parent continues after it. */
  message(): ProtoReader {
    const end = this.lengthDelimitedEnd()
    const child = new ProtoReader(this.bytes, this.pos, end)
    this.pos = end
    return child
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WireType.varint: {
        for (let index = 0; index < 10; index++) {
          if (this.byte() < 0x80) return
        }
        throw new WireFormatError('varint longer than 10 bytes')
      }
      case WireType.fixed64: {
        this.advance(8)
        return
      }
      case WireType.lengthDelimited: {
        this.pos = this.lengthDelimitedEnd()
        return
      }
      case WireType.fixed32: {
        this.advance(4)
        return
      }
      default: {
        throw new WireFormatError(`unsupported wire type ${wireType}`)
      }
    }
  }

  private advance(count: number): void {
    if (this.pos + count > this.end) throw new WireFormatError('message ends inside a field')
    this.pos += count
  }
}

/** Splits a tag into its parts. */
export function fieldOf(tag: number): number {
  return tag >>> 3
}

export function wireTypeOf(tag: number): number {
  return tag & 7
}

/** Asserts a field arrived with the wire type its schema says, so a mismatched payload fails loudly. */
export function expectWireType(tag: number, expected: WireTypeValue, what: string): void {
  if ((tag & 7) !== expected) {
    throw new WireFormatError(`${what} has wire type ${tag & 7}, expected ${expected}`)
  }
}
