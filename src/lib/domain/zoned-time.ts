import {invalidInput} from '../errors.js'

/** A wall-clock date in some time zone; month is 1-12. */
export interface LocalDate {
  year: number
  month: number
  day: number
}

export interface LocalDateTime extends LocalDate {
  hour: number
  minute: number
  second: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}

export function isValidTimeZone(timeZone: string): boolean {
  if (utcZones.has(timeZone)) return true
  try {
    formatterFor(timeZone)
    return true
  } catch {
    return false
  }
}

export function assertTimeZone(timeZone: string): string {
  if (!isValidTimeZone(timeZone)) {
    throw invalidInput(
      'INVALID_TIMEZONE',
      `time zone "${timeZone}" is not known`,
      'use an IANA name like Europe/Berlin, Asia/Shanghai or UTC',
    )
  }
  return timeZone
}

const utcZones = new Set([
  'UTC',
  'Etc/UTC',
  'Etc/UCT',
  'Etc/GMT',
  'GMT',
  'Etc/Universal',
  'Etc/Zulu',
  'Universal',
  'Zulu',
])

function fieldsOf(epochMs: number, timeZone: string): LocalDateTime {
  const parts: Record<string, number> = {}
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value)
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  }
}

/**
 * Offsets change only at zone transitions, which fall on a quarter hour in UTC for every zone in use (offsets are
 * whole quarter hours, transitions happen on the minute 0 or 30 of local time). So one Intl lookup per quarter hour
 * and zone serves every instant in it; Intl's formatToParts costs tens of microseconds, and a pull or a check asks
 * for the local time of every user.
 */
const quarterHour = 900_000
const offsetCache = new Map<string, number>()

/** The zone's offset from UTC at an instant, in ms (east positive). */
export function offsetAt(epochMs: number, timeZone: string): number {
  if (utcZones.has(timeZone)) return 0
  const bucket = Math.floor(epochMs / quarterHour) * quarterHour
  const key = `${timeZone} ${bucket}`
  let offset = offsetCache.get(key)
  if (offset === undefined) {
    const local = fieldsOf(bucket, timeZone)
    offset = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second) - bucket
    if (offsetCache.size > 10_000) offsetCache.clear()
    offsetCache.set(key, offset)
  }
  return offset
}

export function toLocal(epochMs: number, timeZone: string): LocalDateTime {
  const shifted = new Date(epochMs + offsetAt(epochMs, timeZone))
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
    second: shifted.getUTCSeconds(),
  }
}

const day = 86_400_000

/**
 * The first instant at or after the given local wall-clock time. In a DST gap (a local time that never happens)
 * that is the end of the gap; in an overlap (a local time that happens twice) it is the earlier of the two.
 */
export function fromLocal(local: LocalDate & Partial<LocalDateTime>, timeZone: string): number {
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour ?? 0, local.minute ?? 0, local.second ?? 0)
  const before = offsetAt(wall - day, timeZone)
  const after = offsetAt(wall + day, timeZone)
  const candidates = [wall - before, wall - after].filter((instant) => offsetAt(instant, timeZone) === wall - instant)
  if (candidates.length > 0) return Math.min(...candidates)
  return wall - before
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate()
}

export function addMonths(year: number, month: number, delta: number): {year: number; month: number} {
  const index = year * 12 + (month - 1) + delta
  return {year: Math.floor(index / 12), month: (index % 12) + 1}
}

export function formatLocalDate(date: LocalDate): string {
  return `${String(date.year).padStart(4, '0')}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`
}

/** The local calendar day an instant falls on, as `YYYY-MM-DD` (how daily usage rows are keyed). */
export function localDay(epochMs: number, timeZone: string): string {
  return formatLocalDate(toLocal(epochMs, timeZone))
}
