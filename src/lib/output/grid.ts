import type {ChalkInstance} from 'chalk'
import Table from 'cli-table3'

/** A boxed cli-table3 table with bold headings. */
export function table(head: string[], style: ChalkInstance): Table.Table {
  return new Table({head: head.map((title) => style.bold(title)), style: {head: [], border: []}})
}

/** cli-table3 lays out in time that grows with the square of the rows; long lists get plain aligned columns. */
const boxedRowLimit = 500

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex -- ESC starts the colour codes whose width is zero
  return text.replace(/\u001b\[[0-9;]*m/g, '').length
}

/** Left-aligned columns two spaces apart, a rule under the header. */
function plainColumns(head: string[], rows: string[][], style: ChalkInstance): string {
  const widths = head.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => visibleLength(row[column] ?? ''))),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell + ' '.repeat(widths[column]! - visibleLength(cell)))
      .join('  ')
      .trimEnd()
  return [
    line(head.map((title) => style.bold(title))),
    widths.map((width) => '─'.repeat(width)).join('  '),
    ...rows.map(line),
  ].join('\n')
}

/** Rows as a boxed table, or as plain columns when there are too many for cli-table3. */
export function grid(head: string[], rows: string[][], style: ChalkInstance): string {
  if (rows.length > boxedRowLimit) return plainColumns(head, rows, style)
  const out = table(head, style)
  out.push(...rows)
  return out.toString()
}
