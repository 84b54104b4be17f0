/** RFC 4180: CRLF line ends; a field is quoted when it holds a comma, a quote, CR or LF, and its quotes are doubled. */
export type CsvField = string | number | null

export function toCsv(rows: readonly (readonly CsvField[])[]): string {
  return rows.map((row) => row.map(csvField).join(',') + '\r\n').join('')
}

function csvField(value: CsvField): string {
  if (value === null) return ''
  const text = String(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** The inverse of `toCsv`: every field comes back as a string (an empty field as ''). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!
    if (quoted) {
      if (char !== '"') field += char
      else if (text[index + 1] === '"') {
        field += '"'
        index++
      } else quoted = false
    } else if (char === '"') quoted = true
    else if (char === ',') {
      row.push(field)
      field = ''
    } else if (char === '\r' && text[index + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      index++
    } else field += char
  }
  if (field !== '' || row.length > 0) rows.push([...row, field])
  return rows
}
