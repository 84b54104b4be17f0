/**
 * One gRPC channel to a node's API, carrying raw bytes both ways: we serialize and parse ourselves (grpc-wire) so a
 * malformed reply surfaces as our own decode error instead of grpc-js's generic INTERNAL.
 */
import * as grpc from '@grpc/grpc-js'
import {SbqError, unreachable} from '../../../errors.js'
import {WireFormatError, WireRangeError} from '../grpc-wire.js'

/** 100k users is ~8 MB; this leaves room for millions without letting a broken peer exhaust memory. */
export const maxReceiveMessageBytes = 256 * 1024 * 1024
export const defaultTimeoutMs = 10_000

const apiHint = 'check the proxy is running and its api inbound listens there'

/** A failed call whose status the caller may want to read (e.g. HandlerService's "already exists"). */
export class RpcStatusError extends Error {
  override name = 'RpcStatusError'
  readonly code: grpc.status
  readonly details: string

  constructor(code: grpc.status, details: string) {
    super(details)
    this.code = code
    this.details = details
  }
}

function identity(bytes: Buffer): Buffer {
  return bytes
}

export function describeTimeout(timeoutMs: number): string {
  return timeoutMs % 1000 === 0 ? `${timeoutMs / 1000}s` : `${timeoutMs}ms`
}

/** grpc-js wraps the one useful part ("connect ECONNREFUSED 127.0.0.1:1") in boilerplate and timestamps. */
function conciseDetails(details: string): string {
  const concise = details
    .replace(/^No connection established\. Last error: (?:Error: )?/, '')
    .replace(/\.? ?Resolution note:.*$/s, '')
    .replace(/ \(\d{4}-\d\d-\d\dT[^)]*\)/, '')
    .trim()
  return concise === '' ? details : concise
}

export class GrpcConnection {
  readonly address: string
  readonly timeoutMs: number
  private readonly client: grpc.Client

  constructor(address: string, timeoutMs: number) {
    this.address = address
    this.timeoutMs = timeoutMs
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': maxReceiveMessageBytes,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
    })
  }

  /**
   * Calls `/{service}/{method}` and decodes the reply. Transport failures (refused, deadline, UNIMPLEMENTED, garbage)
   * become SbqErrors naming the address; any other status rejects with RpcStatusError for the caller to interpret.
   */
  async call<T>(service: string, method: string, request: Buffer, decode: (reply: Buffer) => T): Promise<T> {
    const path = `/${service}/${method}`
    const reply = await new Promise<Buffer>((resolve, reject) => {
      this.client.makeUnaryRequest(
        path,
        identity,
        identity,
        request,
        {deadline: Date.now() + this.timeoutMs},
        (error: grpc.ServiceError | null, value?: Buffer) => {
          if (error) reject(this.transportError(error, method) ?? new RpcStatusError(error.code, error.details))
          else resolve(value ?? Buffer.alloc(0))
        },
      )
    })
    try {
      return decode(reply)
    } catch (error) {
      throw this.decodeError(error, method)
    }
  }

  /** Maps the statuses that mean "this node cannot be talked to"; null for application-level answers. */
  private transportError(error: grpc.ServiceError, method: string): SbqError | null {
    const node = `node api "${this.address}"`
    switch (error.code) {
      case grpc.status.UNAVAILABLE: {
        return unreachable(
          'NODE_UNREACHABLE',
          `${node} is unreachable: ${conciseDetails(error.details)}`,
          apiHint,
          error,
        )
      }
      case grpc.status.DEADLINE_EXCEEDED: {
        return unreachable(
          'NODE_TIMEOUT',
          `${node} did not answer within ${describeTimeout(this.timeoutMs)}`,
          apiHint,
          error,
        )
      }
      case grpc.status.UNIMPLEMENTED: {
        return unreachable(
          'NODE_API_UNIMPLEMENTED',
          `${node} does not offer "${method}": ${error.details}`,
          "check the node's flavor (xray, v2ray or sing-box) and that the api's services list includes it",
          error,
        )
      }
      case grpc.status.RESOURCE_EXHAUSTED: {
        return unreachable(
          'NODE_REPLY_TOO_LARGE',
          `${node} sent a ${method} reply too large: ${error.details}`,
          undefined,
          error,
        )
      }
      case grpc.status.INTERNAL:
      case grpc.status.UNKNOWN:
      case grpc.status.CANCELLED: {
        // UNKNOWN is also how V2Ray reports its own errors, so only transport-shaped details count as unreachable.
        if (/protocol error|stream|connection|http2|received rst/i.test(error.details)) {
          return unreachable(
            'NODE_API_BROKEN',
            `${node} broke off the ${method} call: ${error.details}`,
            apiHint,
            error,
          )
        }
        return null
      }
      default: {
        return null
      }
    }
  }

  private decodeError(error: unknown, method: string): unknown {
    const node = `node api "${this.address}"`
    if (error instanceof WireRangeError) {
      return unreachable(
        'NODE_COUNTER_OUT_OF_RANGE',
        `${node} sent a ${method} reply where ${error.message}`,
        'sbq counts bytes exactly up to 2^53-1 (8 PiB); restart the proxy to zero its counters',
        error,
      )
    }
    if (error instanceof WireFormatError) {
      return unreachable(
        'NODE_API_MALFORMED',
        `${node} sent a malformed ${method} reply: ${error.message}`,
        'check the address points at the proxy api and the flavor matches the proxy',
        error,
      )
    }
    return error
  }

  close(): void {
    this.client.close()
  }
}

/** Turns a leftover status into an SbqError; used when the caller found nothing special in it. */
export function unexpectedStatus(address: string, method: string, error: unknown): unknown {
  if (error instanceof RpcStatusError) {
    return unreachable(
      'NODE_API_ERROR',
      `node api "${address}" answered ${method} with ${grpc.status[error.code]}: ${error.details}`,
      undefined,
      error,
    )
  }
  return error
}
