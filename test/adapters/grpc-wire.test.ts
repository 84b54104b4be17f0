import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  ProtoReader,
  ProtoWriter,
  WireFormatError,
  WireRangeError,
  varintSize,
} from '../../src/lib/proxies/shared/grpc-wire.js'
import {
  decodeAddUserOperation,
  decodeAlterInboundRequest,
  decodeFlatFields,
  decodeGetStatsResponse,
  decodeOnlineIpListResponse,
  decodeQueryStatsRequest,
  decodeQueryStatsResponse,
  decodeRemoveUserOperation,
  decodeSysStatsResponse,
  encodeAddUserOperation,
  encodeAlterInboundRequest,
  encodeGetStatsResponse,
  encodeOnlineIpListResponse,
  encodeQueryStatsRequest,
  encodeQueryStatsResponse,
  encodeRemoveUserOperation,
  encodeSysStatsResponse,
} from '../../src/lib/proxies/shared/v2ray-api/messages.js'

function roundTripUint(value: number): number {
  const bytes = new ProtoWriter().uint(1, value).finish()
  const reader = new ProtoReader(bytes)
  assert.equal(reader.tag(), (1 << 3) | 0)
  return reader.safeInteger()
}

describe('grpc-wire varints', () => {
  it('round-trips integers across every varint length up to 2^53-1', () => {
    const values = [
      1,
      127,
      128,
      300,
      16_383,
      16_384,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 35 + 5,
      2 ** 49 - 1,
      2 ** 49,
      2 ** 52 + 3,
    ]
    for (const value of values) assert.equal(roundTripUint(value), value, `value ${value}`)
    assert.equal(roundTripUint(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER)
    assert.equal(roundTripUint(Number.MAX_SAFE_INTEGER - 1), Number.MAX_SAFE_INTEGER - 1)
  })

  it('writes the bytes protobuf specifies', () => {
    assert.deepEqual([...new ProtoWriter().uint(1, 300).finish()], [0x08, 0xac, 0x02])
    assert.deepEqual([...new ProtoWriter().string(2, 'hi').finish()], [0x12, 0x02, 0x68, 0x69])
    assert.deepEqual([...new ProtoWriter().int64Big(1, -1n).finish()], [0x08, ...Array<number>(9).fill(0xff), 0x01])
  })

  it('refuses 2^53 and above instead of rounding, and reports the exact value', () => {
    for (const big of [2n ** 53n, 2n ** 53n + 1n, 2n ** 60n + 12_345n, 2n ** 63n - 1n]) {
      const bytes = new ProtoWriter().int64Big(1, big).finish()
      const reader = new ProtoReader(bytes)
      reader.tag()
      assert.throws(
        () => reader.safeInteger(),
        (error: unknown) =>
          error instanceof WireRangeError && error.value === big && error.message.includes(String(big)),
      )
    }
  })

  it('refuses negative int64 values', () => {
    const reader = new ProtoReader(new ProtoWriter().int64Big(1, -5n).finish())
    reader.tag()
    assert.throws(
      () => reader.safeInteger(),
      (error: unknown) => error instanceof WireRangeError && error.value === -5n,
    )
  })

  it('reads the raw 64-bit value exactly as a bigint', () => {
    for (const big of [0n, 1n, 2n ** 32n + 7n, 2n ** 53n + 1n, 2n ** 63n + 99n, 2n ** 64n - 1n]) {
      const bytes = new ProtoWriter().int64Big(1, big).finish()
      const reader = new ProtoReader(bytes)
      if (big === 0n) {
        assert.equal(bytes.length, 0)
        continue
      }
      reader.tag()
      assert.equal(reader.bigUint64(), big)
    }
  })

  it('throws WireFormatError on truncated and overlong input', () => {
    assert.throws(() => new ProtoReader(Buffer.from([0x80, 0x80])).bigUint64(), WireFormatError)
    const truncatedString = new ProtoReader(Buffer.from([0x0a, 0x05, 0x61]))
    truncatedString.tag()
    assert.throws(() => truncatedString.string(), WireFormatError)
    assert.throws(() => new ProtoReader(Buffer.alloc(11, 0xff)).safeInteger(), WireFormatError)
    assert.throws(() => new ProtoReader(Buffer.from([0x00])).tag(), WireFormatError)
  })

  it('sizes length prefixes that grow past one byte', () => {
    const long = 'x'.repeat(200)
    const writer = new ProtoWriter(4)
    writer.message(1, (inner) => inner.string(1, long).uint(2, 7))
    const reader = new ProtoReader(writer.finish())
    reader.tag()
    const inner = reader.message()
    inner.tag()
    assert.equal(inner.string(), long)
    inner.tag()
    assert.equal(inner.safeInteger(), 7)
    assert.ok(reader.done)
    assert.equal(varintSize(200), 2)
  })

  it('round-trips multi-byte UTF-8 names', () => {
    const names = ['Łukasz', '用户', '🙂 emoji', 'a'.repeat(1000)]
    const decoded = decodeQueryStatsResponse(
      encodeQueryStatsResponse(names.map((name, index) => ({name, value: index}))),
    )
    assert.deepEqual(
      decoded.map((stat) => stat.name),
      names,
    )
  })
})

describe('v2ray api messages', () => {
  it('round-trips QueryStats request and response, skipping unknown fields', () => {
    assert.deepEqual(decodeQueryStatsRequest(encodeQueryStatsRequest({pattern: 'user>>>', reset: true})), {
      pattern: 'user>>>',
      reset: true,
    })
    assert.equal(encodeQueryStatsRequest({pattern: '', reset: false}).length, 0)
    const stats = [
      {name: 'user>>>alice>>>traffic>>>uplink', value: 0},
      {name: 'user>>>alice>>>traffic>>>downlink', value: Number.MAX_SAFE_INTEGER},
    ]
    const withUnknownField = Buffer.concat([
      new ProtoWriter().uint(7, 99).string(8, 'extra').finish(),
      encodeQueryStatsResponse(stats),
    ])
    assert.deepEqual(decodeQueryStatsResponse(withUnknownField), stats)
  })

  it('names the counter whose value is past 2^53', () => {
    const bytes = encodeQueryStatsResponse([{name: 'user>>>bob>>>traffic>>>uplink', value: 2n ** 53n + 1n}])
    assert.throws(
      () => decodeQueryStatsResponse(bytes),
      (error: unknown) =>
        error instanceof WireRangeError &&
        error.message.includes('"user>>>bob>>>traffic>>>uplink"') &&
        error.message.includes('9007199254740993'),
    )
  })

  it('round-trips GetStats, SysStats and online IP replies', () => {
    assert.deepEqual(decodeGetStatsResponse(encodeGetStatsResponse({name: 'a', value: 5})), {name: 'a', value: 5})
    assert.equal(decodeGetStatsResponse(encodeGetStatsResponse(null)), null)
    assert.deepEqual(decodeSysStatsResponse(encodeSysStatsResponse({numGoroutine: 3, uptimeSeconds: 86_400})), {
      numGoroutine: 3,
      uptimeSeconds: 86_400,
    })
    const ips = new Map([
      ['203.0.113.7', 1_700_000_000],
      ['2001:db8::1', 1_700_000_123],
    ])
    assert.deepEqual(decodeOnlineIpListResponse(encodeOnlineIpListResponse('user>>>a>>>online', ips)), ips)
  })

  it('round-trips AlterInbound with a TypedMessage-wrapped AddUserOperation', () => {
    const account = {
      type: 'xray.proxy.vless.Account',
      value: new ProtoWriter().string(1, 'uuid-1').string(2, 'xtls-rprx-vision').string(3, 'none').finish(),
    }
    const operation = {
      type: 'xray.app.proxyman.command.AddUserOperation',
      value: encodeAddUserOperation({level: 0, email: 'alice', account}),
    }
    const request = decodeAlterInboundRequest(encodeAlterInboundRequest({tag: 'vless-in', operation}))
    assert.equal(request.tag, 'vless-in')
    assert.equal(request.operation?.type, operation.type)
    const user = decodeAddUserOperation(request.operation?.value ?? Buffer.alloc(0))
    assert.equal(user?.email, 'alice')
    assert.equal(user?.account?.type, 'xray.proxy.vless.Account')
    assert.deepEqual(
      decodeFlatFields(user?.account?.value ?? Buffer.alloc(0)),
      new Map([
        [1, 'uuid-1'],
        [2, 'xtls-rprx-vision'],
        [3, 'none'],
      ]),
    )
    assert.equal(decodeRemoveUserOperation(encodeRemoveUserOperation('alice')), 'alice')
  })
})
