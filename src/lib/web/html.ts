/**
 * HTML built from tagged templates: every interpolated value is escaped unless it is already `Html` (made by `html`
 * or `raw`), so markup from a template nests and text from a user never becomes markup.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

/** What a template accepts: text (escaped), numbers, Html, nothing (null/undefined/false render as ''), or lists. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[]

const escapes: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}

/** Text made safe for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => escapes[char]!)
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false || value === true) return ''
  if (value instanceof Html) return value.text
  if (Array.isArray(value)) return value.map(render).join('')
  return escapeHtml(String(value))
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!
  for (let index = 0; index < values.length; index++) out += render(values[index]!) + strings[index + 1]!
  return new Html(out)
}

/** Markup that is trusted as it is: only for text sbq wrote itself, never for anything from a request or the database. */
export function raw(text: string): Html {
  return new Html(text)
}
