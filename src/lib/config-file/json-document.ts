/**
 * A JSON parser that remembers where every value sits in the text, so that sbq can replace one user list and leave
 * every other byte of a proxy's config alone (formatting, key order, number spelling, comments).
 *
 * It accepts what sing-box, Xray and V2Ray accept: strict JSON plus `//`, `/* *\/` and `#` comments, which their
 * config readers strip before decoding. Trailing commas are refused, as the proxies' decoders refuse them.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | {[key: string]: JsonValue}
export type JsonObject = {[key: string]: JsonValue}

interface Span {
  /** Offset of the value's first character. */
  start: number
  /** Offset just past the value's last character. */
  end: number
}

export interface JsonMember {
  key: string
  keyStart: number
  value: JsonNode
}

export type JsonNode =
  | (Span & {kind: 'object'; members: JsonMember[]})
  | (Span & {kind: 'array'; items: JsonNode[]})
  | (Span & {kind: 'string'; value: string})
  | (Span & {kind: 'number'; value: number})
  | (Span & {kind: 'boolean'; value: boolean})
  | (Span & {kind: 'null'})

export type JsonObjectNode = Extract<JsonNode, {kind: 'object'}>
export type JsonArrayNode = Extract<JsonNode, {kind: 'array'}>

export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`)
    this.name = 'JsonSyntaxError'
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
// A JSON string token: no raw control characters, only the escapes JSON defines (RFC 8259, section 7).
// eslint-disable-next-line no-control-regex -- matching the control characters JSON forbids is the point
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y
// eslint-disable-next-line no-control-regex -- as above
const NEEDS_DECODING = /[\\\u0000-\u001f]/

class Parser {
  private pos = 0

  constructor(private readonly text: string) {
    // A byte-order mark is not content; Go's readers would choke on it too, but it does no harm to skip it here.
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1
  }

  parseDocument(): JsonNode {
    const root = this.parseValue()
    this.skipTrivia()
    if (this.pos < this.text.length) this.fail('unexpected text after the end of the document')
    return root
  }

  private parseValue(): JsonNode {
    this.skipTrivia()
    const ch = this.text[this.pos]
    if (ch === '{') return this.parseObject()
    if (ch === '[') return this.parseArray()
    if (ch === '"') {
      const start = this.pos
      const value = this.readString()
      return {kind: 'string', start, end: this.pos, value}
    }
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.parseNumber()
    for (const [word, node] of [
      ['true', {kind: 'boolean', value: true}],
      ['false', {kind: 'boolean', value: false}],
      ['null', {kind: 'null'}],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        const start = this.pos
        this.pos += word.length
        return {...node, start, end: this.pos}
      }
    }
    return this.fail(ch === undefined ? 'unexpected end of the document' : `unexpected character ${JSON.stringify(ch)}`)
  }

  private parseObject(): JsonObjectNode {
    const start = this.pos
    this.pos++
    const members: JsonMember[] = []
    this.skipTrivia()
    if (this.text[this.pos] === '}') {
      this.pos++
      return {kind: 'object', start, end: this.pos, members}
    }
    for (;;) {
      this.skipTrivia()
      if (this.text[this.pos] !== '"') this.fail('expected a quoted key')
      const keyStart = this.pos
      const key = this.readString()
      this.skipTrivia()
      if (this.text[this.pos] !== ':') this.fail("expected ':' after the key")
      this.pos++
      const value = this.parseValue()
      members.push({key, keyStart, value})
      this.skipTrivia()
      const next = this.text[this.pos]
      this.pos++
      if (next === '}') return {kind: 'object', start, end: this.pos, members}
      if (next !== ',') {
        this.pos--
        this.fail("expected ',' or '}'")
      }
    }
  }

  private parseArray(): JsonArrayNode {
    const start = this.pos
    this.pos++
    const items: JsonNode[] = []
    this.skipTrivia()
    if (this.text[this.pos] === ']') {
      this.pos++
      return {kind: 'array', start, end: this.pos, items}
    }
    for (;;) {
      items.push(this.parseValue())
      this.skipTrivia()
      const next = this.text[this.pos]
      this.pos++
      if (next === ']') return {kind: 'array', start, end: this.pos, items}
      if (next !== ',') {
        this.pos--
        this.fail("expected ',' or ']'")
      }
    }
  }

  private parseNumber(): JsonNode {
    NUMBER.lastIndex = this.pos
    const match = NUMBER.exec(this.text)
    if (match === null) return this.fail('malformed number')
    const start = this.pos
    this.pos += match[0].length
    return {kind: 'number', start, end: this.pos, value: Number(match[0])}
  }

  private readString(): string {
    // Most strings in a config (names, ids, tags) hold no escapes: the closing quote is the next one, and the text
    // between needs no decoding. A 100k-client config has ~500k strings, so this path matters.
    const close = this.text.indexOf('"', this.pos + 1)
    if (close !== -1) {
      const body = this.text.slice(this.pos + 1, close)
      if (!NEEDS_DECODING.test(body)) {
        this.pos = close + 1
        return body
      }
    }
    STRING.lastIndex = this.pos
    const match = STRING.exec(this.text)
    if (match === null) return this.fail('malformed string')
    this.pos += match[0].length
    return JSON.parse(match[0]) as string
  }

  private skipTrivia(): void {
    const text = this.text
    for (;;) {
      const ch = text[this.pos]
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
        this.pos++
      } else if (ch === '#' || (ch === '/' && text[this.pos + 1] === '/')) {
        const eol = text.indexOf('\n', this.pos)
        this.pos = eol === -1 ? text.length : eol + 1
      } else if (ch === '/' && text[this.pos + 1] === '*') {
        const close = text.indexOf('*/', this.pos + 2)
        if (close === -1) this.fail('unterminated /* comment')
        this.pos = close + 2
      } else {
        return
      }
    }
  }

  private fail(reason: string): never {
    const before = this.text.slice(0, this.pos)
    const line = before.split('\n').length
    const column = this.pos - before.lastIndexOf('\n')
    throw new JsonSyntaxError(reason, line, column)
  }
}

/** Parses JSON-with-comments; throws JsonSyntaxError with a 1-based line and column. */
export function parseJsonDocument(text: string): JsonNode {
  return new Parser(text).parseDocument()
}

/**
 * The plain value of JSON-with-comments text. Strict JSON (no comments, no byte-order mark) goes through the native
 * parser, several times faster on a 16 MB config; anything else through ours, which throws JsonSyntaxError with the
 * line and column. Both keep the last of duplicate keys and make `__proto__` an ordinary key.
 */
export function parseJsonValue(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    return toValue(parseJsonDocument(text))
  }
}

/** The plain value a node stands for; duplicate keys resolve to the last one, as Go's decoder does. */
export function toValue(node: JsonNode): JsonValue {
  switch (node.kind) {
    case 'object': {
      const out: JsonObject = {}
      for (const member of node.members) {
        const value = toValue(member.value)
        // defineProperty so that a "__proto__" key is data, not a prototype change (plain assignment is far faster).
        if (member.key === '__proto__')
          Object.defineProperty(out, member.key, {value, enumerable: true, writable: true, configurable: true})
        else out[member.key] = value
      }
      return out
    }
    case 'array':
      return node.items.map(toValue)
    case 'null':
      return null
    default:
      return node.value
  }
}

export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true
  if (a === null || b === null || a === undefined || b === undefined) return false
  if (typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((item, i) => jsonEqual(item, b[i]))
  }
  const keysA = Object.keys(a)
  const keysB = Object.keys(b)
  if (keysA.length !== keysB.length) return false
  return keysA.every((key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual(a[key], b[key]))
}
