import {execFile} from 'node:child_process'
import {findV2ctl} from './v2ray-process.js'

const SIMPLE_ESCAPES: Record<string, number> = {n: 0x0a, r: 0x0d, t: 0x09, '"': 0x22, "'": 0x27, '\\': 0x5c}

/** Go's prototext writes non-ASCII bytes of a name (a UTF-8 email) as octal escapes. */
function unescapeTextFormat(quoted: string): string {
  const bytes: number[] = []
  for (let i = 0; i < quoted.length; i++) {
    const codePoint = quoted.codePointAt(i) ?? 0
    if (codePoint !== 0x5c) {
      bytes.push(...Buffer.from(String.fromCodePoint(codePoint), 'utf8'))
      if (codePoint > 0xffff) i++
      continue
    }
    const octal = /^[0-7]{3}/.exec(quoted.slice(i + 1))?.[0]
    const hex = /^x[0-9a-fA-F]{2}/.exec(quoted.slice(i + 1))?.[0]
    const simple = SIMPLE_ESCAPES[quoted[i + 1] ?? '']
    if (octal !== undefined) {
      bytes.push(parseInt(octal, 8))
      i += 3
    } else if (hex !== undefined) {
      bytes.push(parseInt(hex.slice(1), 16))
      i += 3
    } else if (simple !== undefined) {
      bytes.push(simple)
      i += 1
    } else {
      throw new Error(`unknown escape in v2ctl output: ${quoted}`)
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/**
 * Parse the protobuf text format `v2ctl api ... StatsService.QueryStats` prints:
 *
 *     stat: <
 *       name: "user>>>alice>>>traffic>>>downlink"
 *       value: 1048781
 *     >
 *
 * A zero counter has no `value:` line (text format leaves out default values).
 */
export function parseV2ctlStats(text: string): Map<string, number> {
  const stats = new Map<string, number>()
  let name: string | undefined
  let value = 0
  let open = false
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '') continue
    if (line === 'stat: <') {
      open = true
      name = undefined
      value = 0
      continue
    }
    if (!open) throw new Error(`unexpected v2ctl output line: ${line}`)
    const nameMatch = /^name: "((?:[^"\\]|\\.)*)"$/.exec(line)
    const valueMatch = /^value: (-?\d+)$/.exec(line)
    if (nameMatch?.[1] !== undefined) {
      name = unescapeTextFormat(nameMatch[1])
    } else if (valueMatch?.[1] !== undefined) {
      value = Number(valueMatch[1])
      if (!Number.isSafeInteger(value)) throw new Error(`v2ctl counter is not a safe integer: ${line}`)
    } else if (line === '>') {
      if (name === undefined) throw new Error('v2ctl printed a stat without a name')
      stats.set(name, value)
      open = false
    } else {
      throw new Error(`unexpected v2ctl output line: ${line}`)
    }
  }
  if (open) throw new Error('v2ctl output ends inside a stat')
  return stats
}

/**
 * V2Ray's own counters, read with Debian's `v2ctl` rather than sbq's gRPC client so tests can check sbq against an
 * independent reading. `pattern` is V2Ray's substring match; empty means every counter.
 */
export function queryV2rayStats(apiAddress: string, pattern = ''): Promise<Map<string, number>> {
  const v2ctl = findV2ctl()
  if (v2ctl === undefined) return Promise.reject(new Error('v2ctl is not installed (looked beside v2ray and on PATH)'))
  const request = `pattern: ${JSON.stringify(pattern)} reset: false`
  const args = ['api', `--server=${apiAddress}`, 'StatsService.QueryStats', request]
  return new Promise((resolve, reject) => {
    execFile(v2ctl, args, {timeout: 10_000}, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`${v2ctl} ${args.join(' ')} failed: ${error.message}\n${stderr}${stdout}`))
        return
      }
      try {
        resolve(parseV2ctlStats(stdout))
      } catch (parseError) {
        reject(parseError)
      }
    })
  })
}
