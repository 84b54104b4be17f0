import {request} from 'undici'

import {requestIdHeader} from '../inform/inform-payload.js'

const pushTimeoutMs = 5000

/** One POST; the failure in one line (never the URL, which carries the token), or null on a 2xx. */
export async function postInform(url: string, body: string, requestId: string): Promise<string | null> {
  try {
    const response = await request(url, {
      method: 'POST',
      headers: {'content-type': 'application/json', 'user-agent': 'sbq', [requestIdHeader]: requestId},
      body,
      headersTimeout: pushTimeoutMs,
      bodyTimeout: pushTimeoutMs,
      signal: AbortSignal.timeout(pushTimeoutMs),
    })
    await response.body.dump()
    return response.statusCode >= 200 && response.statusCode < 300
      ? null
      : `receiver answered HTTP ${response.statusCode}`
  } catch (error) {
    const {code, message} = error as {code?: string; message?: string}
    return `receiver unreachable: ${code ?? message ?? String(error)}`
  }
}
