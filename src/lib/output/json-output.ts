/** Elements per piece of a long array: big enough that a write is worth a system call, small enough to stay cheap. */
const elementsPerPiece = 2000

/**
 * Writes `value` as compact JSON, the text of JSON.stringify(value), in pieces: a long array, as the value or as one of
 * its members (a report's 100k rows, a 100k-user list), goes out a slice of elements at a time. As one string, a
 * 100k-user report is 25 MB, and writing it makes a 25 MB buffer of that, memory touched once and then freed; in
 * pieces, a file or a reader that keeps up never sees more than a slice at once (Node queues what a slow pipe does not
 * take yet). Two differences from JSON.stringify, neither reachable from sbq's results: an element's toJSON is called
 * with its index within its slice, and a value that cannot be serialised (a BigInt) throws after the pieces before it
 * went out.
 */
export function writeCompactJson(value: unknown, write: (text: string) => void): void {
  if (isLongArray(value)) writeArray(value, write)
  else if (isPlainObject(value)) writeObject(value, write)
  else write(JSON.stringify(value) ?? 'undefined')
}

function writeObject(object: Record<string, unknown>, write: (text: string) => void): void {
  write('{')
  let first = true
  for (const key of Object.keys(object)) {
    const member = object[key]
    const long = isLongArray(member)
    // As a one-member object, so that a toJSON sees its key and a member with no JSON form (undefined, a function)
    // is left out, both as JSON.stringify does it.
    const text = long ? JSON.stringify(key) : JSON.stringify({[key]: member}).slice(1, -1)
    if (text === '') continue
    write(first ? text : `,${text}`)
    first = false
    if (long) {
      write(':')
      writeArray(member, write)
    }
  }
  write('}')
}

function writeArray(array: unknown[], write: (text: string) => void): void {
  for (let start = 0; start < array.length; start += elementsPerPiece) {
    const piece = JSON.stringify(array.slice(start, start + elementsPerPiece))
    // A slice's text is "[a,b]": its brackets become the whole array's, its elements are joined by commas.
    write(`${start === 0 ? '[' : ','}${piece.slice(1, -1)}`)
  }
  write(']')
}

function isLongArray(value: unknown): value is unknown[] {
  return Array.isArray(value) && value.length > elementsPerPiece && !hasToJson(value)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || hasToJson(value)) return false
  const prototype = Object.getPrototypeOf(value) as unknown
  return prototype === Object.prototype || prototype === null
}

function hasToJson(value: object): boolean {
  return typeof (value as {toJSON?: unknown}).toJSON === 'function'
}
