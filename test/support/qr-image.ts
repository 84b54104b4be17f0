import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'

/** Whether Debian's zbarimg (package zbar-tools) is here to read QR codes back. */
export function zbarAvailable(): boolean {
  return spawnSync('zbarimg', ['--version'], {encoding: 'utf8'}).status === 0
}

/** What zbarimg reads in an image file: each QR code's text (`--raw`), or [] when it finds none. */
export function decodeQr(path: string): string[] {
  const result = spawnSync('zbarimg', ['--quiet', '--raw', '-Sdisable', '-Sqrcode.enable', path], {encoding: 'utf8'})
  return result.stdout.split('\n').filter((line) => line !== '')
}

/**
 * A QR code drawn with half blocks (two modules a character: ▀ upper dark, ▄ lower dark, █ both, space neither),
 * ANSI colour codes ignored, written as a greyscale PGM image that zbarimg reads: dark modules black, each module
 * `scale` pixels, with a white margin.
 */
export function writeHalfBlockQrAsPgm(drawn: string, path: string, scale = 4): void {
  const rows: boolean[][] = []
  for (const line of drawn.split('\n')) {
    const top: boolean[] = []
    const bottom: boolean[] = []
    // qrcode's terminal form draws the modules black on white (30 on 47) and its last half row white on the
    // terminal's own background (37): a glyph in white is light modules, like the background around it.
    let glyphIsDark = true
    // eslint-disable-next-line no-control-regex -- reading ANSI colour codes is the point
    for (const token of line.match(/\u001b\[[0-9;]*m|./gu) ?? []) {
      if (token.startsWith('\u001b')) {
        if (token === '\u001b[37m') glyphIsDark = false
        if (token === '\u001b[30m') glyphIsDark = true
        continue
      }
      top.push(glyphIsDark && (token === '█' || token === '▀'))
      bottom.push(glyphIsDark && (token === '█' || token === '▄'))
    }
    if (top.length === 0) continue
    rows.push(top, bottom)
  }
  const margin = 8
  const width = Math.max(...rows.map((row) => row.length)) + 2 * margin
  const height = rows.length + 2 * margin
  const pixels = Buffer.alloc(width * scale * height * scale, 255)
  rows.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return
      for (let dy = 0; dy < scale; dy++)
        for (let dx = 0; dx < scale; dx++)
          pixels[((y + margin) * scale + dy) * width * scale + (x + margin) * scale + dx] = 0
    }),
  )
  writeFileSync(path, Buffer.concat([Buffer.from(`P5\n${width * scale} ${height * scale}\n255\n`), pixels]))
}
