import {raw, type Html} from './html.js'

/**
 * A QR code as inline SVG, drawn on the server: two paths with fill and stroke attributes (no style, no script), so
 * the pages' CSP allows it, and it stays sharp at any size. The markup is the QR library's own, made from the text's
 * bits only, so no character of the text reaches it; the library is loaded on the first page that needs it.
 */
export async function qrSvg(text: string): Promise<Html> {
  const {default: qrcode} = await import('qrcode')
  const svg = await qrcode.toString(text, {type: 'svg', errorCorrectionLevel: 'M', margin: 2})
  return raw(svg.trim())
}
