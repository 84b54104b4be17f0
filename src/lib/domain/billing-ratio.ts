/**
 * A node's billing ratio: how many bytes a user is billed for each byte the node counted (Marzban's usage coefficient,
 * Remnawave's consumption multiplier). Kept as an exact integer count of ten-thousandths, never as a float: bytes go
 * past 2^53 in sums, and a float ratio would round them a different way in every place that multiplied.
 */
import {invalidInput} from '../errors.js'

/** Ten-thousandths per unit: a ratio has at most 4 decimals, and 10000 bills every byte once. */
const ratioScale = 10_000
export const unitRatio = ratioScale
const maxDecimals = 4
/** Far above any real tariff; a larger one is a typo (an extra zero, a byte count in the wrong flag). */
const maxRatio = 100

const ratioPattern = /^(\d*)(?:\.(\d+))?$/

/** `0.5`, `2`, `1.25` as ten-thousandths; exit 2 naming the value for anything else. */
export function parseRatio(text: string, what = '--ratio'): number {
  const trimmed = text.trim()
  const refuse = (problem: string) =>
    invalidInput(
      'INVALID_RATIO',
      `${what} "${text}" ${problem}`,
      'give a number above 0 and at most 100 with up to 4 decimals, like 0.5, 1 or 1.25',
    )
  const match = ratioPattern.exec(trimmed)
  if (match === null || trimmed === '') throw refuse(trimmed.startsWith('-') ? 'is not above 0' : 'is not a ratio')
  const [, digits, fraction = ''] = match
  const whole = digits!.replace(/^0+(?=\d)/, '') || '0'
  if (fraction.length > maxDecimals) throw refuse(`has more than ${maxDecimals} decimals`)
  // Compared as text first: a long run of digits is no number to multiply.
  if (whole.length > String(maxRatio).length || Number(whole) > maxRatio) throw refuse(`is above ${maxRatio}`)
  const scaled = Number(whole) * ratioScale + Number(fraction.padEnd(maxDecimals, '0'))
  if (scaled === 0) throw refuse('is not above 0')
  if (scaled > maxRatio * ratioScale) throw refuse(`is above ${maxRatio}`)
  return scaled
}

/** `0.5`, `2`, `1.25`: the shortest decimal that parses back to the same ratio. */
export function formatRatio(scaled: number): string {
  const whole = Math.floor(scaled / ratioScale)
  const fraction = String(scaled % ratioScale)
    .padStart(maxDecimals, '0')
    .replace(/0+$/, '')
  return fraction === '' ? String(whole) : `${whole}.${fraction}`
}

/** The bytes billed for `raw` bytes at one ratio: floor(raw × ratio), exact at any size. */
export function billedBytes(raw: bigint, scaled: number): bigint {
  return (raw * BigInt(scaled)) / BigInt(ratioScale)
}

/**
 * What a ledger row's billed bytes grow by when its raw bytes grow from `rawBefore` by `delta`, at the node's ratio
 * now: floor((rawBefore + delta) × ratio) − floor(rawBefore × ratio). Rounding happens once per row, not per pull, so
 * any number of small pulls at one ratio sum to exactly floor(row's raw × ratio); bytes billed before a ratio change
 * keep the ratio they were billed at. The result is about `delta × ratio`, so it stays exact even when the row's
 * totals pass 2^53.
 */
export function billedDelta(rawBefore: number, delta: number, scaled: number): number {
  if (scaled === unitRatio) return delta
  const before = BigInt(rawBefore)
  return Number(billedBytes(before + BigInt(delta), scaled) - billedBytes(before, scaled))
}
