/**
 * Splicing new values into a JSON document's text. Only the spans sbq owns are rewritten; the bytes around them
 * (other keys, comments, the author's formatting) are carried over untouched.
 */
import type {JsonArrayNode, JsonMember, JsonNode, JsonObjectNode, JsonValue} from './json-document.js'

export interface TextEdit {
  start: number
  end: number
  text: string
}

/** New output is indented by two spaces per level, the convention of sing-box's and Xray's own examples. */
const INDENT = '  '

export class DuplicateKeyError extends Error {
  constructor(readonly key: string) {
    super(`duplicate key "${key}"`)
    this.name = 'DuplicateKeyError'
  }
}

/** The member named `key`; a key given twice is ambiguous (the proxy reads the last one), so it is refused. */
export function memberOf(object: JsonObjectNode, key: string): JsonMember | undefined {
  const found = object.members.filter((m) => m.key === key)
  if (found.length > 1) throw new DuplicateKeyError(key)
  return found[0]
}

export function childOf(node: JsonNode | undefined, key: string): JsonNode | undefined {
  return node?.kind === 'object' ? memberOf(node, key)?.value : undefined
}

export function lineIndent(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1
  const match = /^[ \t]*/.exec(text.slice(lineStart, offset))
  return match === null ? '' : match[0]
}

/** `value` as 2-space JSON whose continuation lines start at `indent`. */
export function renderValue(value: JsonValue, indent: string): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`)
}

export type ArrayItem = {keep: JsonNode} | {value: JsonValue}

/** Replaces an array with the given items: kept items keep their original text, new ones are rendered. */
export function replaceArrayEdit(text: string, array: JsonArrayNode, items: readonly ArrayItem[]): TextEdit {
  const base = lineIndent(text, array.start)
  const itemIndent = base + INDENT
  const rendered = items.map((item) =>
    'keep' in item ? text.slice(item.keep.start, item.keep.end) : renderValue(item.value, itemIndent),
  )
  const body = rendered.length === 0 ? '[]' : `[\n${rendered.map((r) => itemIndent + r).join(',\n')}\n${base}]`
  return {start: array.start, end: array.end, text: body}
}

/** Adds `"key": value` as the object's last member. */
export function insertMemberEdit(text: string, object: JsonObjectNode, key: string, value: JsonValue): TextEdit {
  const objectIndent = lineIndent(text, object.start)
  const last = object.members.at(-1)
  if (last === undefined) {
    const inner = objectIndent + INDENT
    return {
      start: object.start,
      end: object.end,
      text: `{\n${inner}${JSON.stringify(key)}: ${renderValue(value, inner)}\n${objectIndent}}`,
    }
  }
  const sameLineAsBrace = !text.slice(object.start, last.keyStart).includes('\n')
  const memberIndent = sameLineAsBrace ? objectIndent + INDENT : lineIndent(text, last.keyStart)
  return {
    start: last.value.end,
    end: last.value.end,
    text: `,\n${memberIndent}${JSON.stringify(key)}: ${renderValue(value, memberIndent)}`,
  }
}

/** Replaces one value (e.g. a `null`) with a rendered value at the same indentation. */
export function replaceValueEdit(text: string, node: JsonNode, value: JsonValue): TextEdit {
  return {start: node.start, end: node.end, text: renderValue(value, lineIndent(text, node.start))}
}

/** Applies non-overlapping edits; overlapping ones are a programming error. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start)
  let out = ''
  let cursor = 0
  for (const edit of sorted) {
    if (edit.start < cursor) throw new Error('overlapping JSON edits')
    out += text.slice(cursor, edit.start) + edit.text
    cursor = edit.end
  }
  return out + text.slice(cursor)
}
