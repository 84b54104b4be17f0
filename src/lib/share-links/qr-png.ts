import {mkdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {invalidInput} from '../errors.js'

/** A file name from a user, node and inbound tag: tags may hold anything, file names may not. */
export function qrFileName(user: string, node: string, tag: string): string {
  return `${[user, node, tag].map((part) => part.replace(/[^A-Za-z0-9._-]/g, '_')).join('-')}.png`
}

/**
 * Writes each link as a PNG QR code in `dir` (made, private, when missing; its parent must exist) and returns the paths, in order. A link
 * is a user's credentials, so the files are readable by their owner only.
 */
export async function writeQrPngs(dir: string, items: ReadonlyArray<{file: string; link: string}>): Promise<string[]> {
  const refuse = (why: string) =>
    invalidInput(
      'QR_DIRECTORY_INVALID',
      `--qr-png cannot write into "${dir}": ${why}`,
      'give a directory you may write',
    )
  let stats
  try {
    stats = statSync(dir)
  } catch {
    try {
      // Not recursive: a missing parent is more likely a typo than a wish, and Node's recursive mkdir can spin on /proc.
      mkdirSync(dir, {mode: 0o700})
    } catch (error) {
      throw refuse((error as NodeJS.ErrnoException).code ?? String(error))
    }
  }
  if (stats !== undefined && !stats.isDirectory()) throw refuse('it is not a directory')
  // Loaded only here: most runs draw no QR code.
  const {default: qrcode} = await import('qrcode')
  const paths: string[] = []
  for (const item of items) {
    const path = join(dir, item.file)
    const png = await qrcode.toBuffer(item.link, {type: 'png', errorCorrectionLevel: 'M', margin: 4, scale: 8})
    try {
      writeFileSync(path, png, {mode: 0o600})
    } catch (error) {
      throw refuse((error as NodeJS.ErrnoException).code ?? String(error))
    }
    paths.push(path)
  }
  return paths
}
