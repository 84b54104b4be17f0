import {invalidInput} from '../errors.js'

const powers: Record<string, number> = {K: 1, M: 2, G: 3, T: 4}
const pattern = /^(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:I?B)?|(B))?$/i

/**
 * Parses an operator's size: a bare number is GiB (as the design card's `--monthly 100` means it);
 * K, M, G, T (with or without B / iB) are powers of 1024; `0` and `unlimited` mean no limit (0).
 */
export function parseSize(text: string, what = 'size'): number {
  const trimmed = text.trim()
  if (/^(unlimited|none)$/i.test(trimmed)) return 0
  if (trimmed.startsWith('-')) {
    throw invalidInput('INVALID_SIZE', `${what} "${text}" is negative`, 'give a size of 0 or more, like 100 or 512M')
  }
  const match = pattern.exec(trimmed)
  if (!match) {
    throw invalidInput(
      'INVALID_SIZE',
      `${what} "${text}" is not a size`,
      'use a number of GiB like 100, or a unit: 512M, 1.5G, 2T, 0 or unlimited',
    )
  }
  const [, amount, unit, bytesSuffix] = match
  const power = unit ? powers[unit.toUpperCase()]! : bytesSuffix ? 0 : 3
  const bytes = Number(amount) * 1024 ** power
  if (bytes > Number.MAX_SAFE_INTEGER) {
    throw invalidInput('INVALID_SIZE', `${what} "${text}" is too large`, 'sizes must stay below 8 PiB (2^53 bytes)')
  }
  if (!Number.isInteger(bytes)) {
    const smaller =
      power > 0 ? `${Math.floor(bytes / 1024 ** (power - 1))}${'BKMG'[power - 1]}` : `${Math.floor(bytes)}B`
    throw invalidInput(
      'INVALID_SIZE',
      `${what} "${text}" is not a whole number of bytes`,
      `use a whole number of a smaller unit, like ${smaller}`,
    )
  }
  return bytes
}

const humanUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** `12.4 GiB`; exact below 1 KiB. */
export function formatSize(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < humanUnits.length - 1) {
    value /= 1024
    unit++
  }
  if (unit === 0) return `${bytes} B`
  const digits = value >= 100 ? 0 : 1
  return `${value.toFixed(digits)} ${humanUnits[unit]}`
}
