import {ExitCode, SbqError} from '../errors.js'

/**
 * sbq's byte counts and times are JavaScript numbers, exact up to 2^53 (8 PiB; a timestamp in the year 287,396). A
 * database holds 64-bit integers, so a value past that can only be a damaged row; it fails the read with one line
 * instead of coming back rounded.
 */
export function outOfRange(text: string): SbqError {
  return new SbqError(
    'DATABASE_VALUE_OUT_OF_RANGE',
    `database value ${text} is beyond the exact range of sbq's numbers (2^53)`,
    {
      exit: ExitCode.invalidInput,
      hint: 'a counter or time this large is a damaged row; correct it in the database',
    },
  )
}

/** An integer's text as an exact number; a fraction (an average) as the nearest number. */
export function exactNumber(text: string): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value) && /^-?\d+$/.test(text)) throw outOfRange(text)
  return value
}

/**
 * JSON.parse rounds an integer past 2^53 to a float at or past 2^53 without a word; every such float is caught here,
 * in the arrays (of values, or of arrays of values) that the JSON row reads return.
 */
export function assertExactNumbers(values: readonly unknown[]): void {
  for (const value of values) {
    if (typeof value === 'number') {
      if (Math.abs(value) >= 2 ** 53 && Number.isInteger(value)) throw outOfRange(`near ${BigInt(value)}`)
    } else if (Array.isArray(value)) assertExactNumbers(value)
  }
}
