import {invalidInput} from '../errors.js'

/**
 * When a user's period allowance starts again. Calendar rules reset at local midnight on their day in the install's
 * time zone; `rolling` periods are a fixed number of local days long, each starting where the last one ended; `never`
 * is one period for the user's whole life (only the lifetime total matters, and the period allowance is a second cap
 * on the same bytes).
 */
export type ResetRule =
  | {every: 'month'; day: number}
  | {every: 'week'; weekday: number}
  | {every: 'day'}
  | {every: 'year'; month: number; day: number}
  | {every: 'rolling'; days: number}
  | {every: 'never'}

export const defaultResetRule: ResetRule = {every: 'month', day: 1}

/** ISO weekdays: 1 is Monday. */
const weekdayNames = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
const weekdayByName = new Map(
  ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].flatMap((name, index) => [
    [name, index + 1],
    [name.slice(0, 3), index + 1],
  ]),
)
const maxRollingDays = 366

export const resetRuleHint =
  'give monthly[:DAY 1-31], weekly[:mon..sun], daily, yearly[:MM-DD], rolling[:DAYSd, default 30d] or never'

/** The stored and printed form (`monthly:15`, `weekly:mon`, `daily`, `yearly:03-15`, `rolling:30d`, `never`). */
export function formatResetRule(rule: ResetRule): string {
  switch (rule.every) {
    case 'month':
      return `monthly:${rule.day}`
    case 'week':
      return `weekly:${weekdayNames[rule.weekday - 1]}`
    case 'day':
      return 'daily'
    case 'year':
      return `yearly:${String(rule.month).padStart(2, '0')}-${String(rule.day).padStart(2, '0')}`
    case 'rolling':
      return `rolling:${rule.days}d`
    case 'never':
      return 'never'
  }
}

function refuse(text: string, label: string): never {
  throw invalidInput('INVALID_RESET', `${label} "${text}" is not a reset rule`, resetRuleHint)
}

function wholeIn(text: string, min: number, max: number): number | undefined {
  if (!/^\d{1,3}$/.test(text)) return undefined
  const value = Number(text)
  return value >= min && value <= max ? value : undefined
}

/** Reads what an operator typed (or what was stored); `label` names the flag or field in the refusal. */
export function parseResetRule(text: string, label = '--reset'): ResetRule {
  const [kind = '', argument, extra] = text.trim().toLowerCase().split(':')
  if (extra !== undefined) refuse(text, label)
  switch (kind) {
    case 'monthly': {
      const day = argument === undefined ? 1 : wholeIn(argument, 1, 31)
      return day === undefined ? refuse(text, label) : {every: 'month', day}
    }
    case 'weekly': {
      if (argument === undefined) return {every: 'week', weekday: 1}
      const weekday = weekdayByName.get(argument) ?? wholeIn(argument, 1, 7)
      return weekday === undefined ? refuse(text, label) : {every: 'week', weekday}
    }
    case 'daily':
      return argument === undefined ? {every: 'day'} : refuse(text, label)
    case 'yearly': {
      if (argument === undefined) return {every: 'year', month: 1, day: 1}
      const match = /^(\d{1,2})-(\d{1,2})$/.exec(argument)
      const month = match ? wholeIn(match[1]!, 1, 12) : undefined
      // February 29 is allowed: in other years the period starts on February 28, as day 31 does in short months.
      const day =
        match && month !== undefined
          ? wholeIn(match[2]!, 1, [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!)
          : undefined
      return month === undefined || day === undefined ? refuse(text, label) : {every: 'year', month, day}
    }
    case 'rolling': {
      const days = argument === undefined ? 30 : wholeIn(argument.replace(/d$/, ''), 1, maxRollingDays)
      return days === undefined ? refuse(text, label) : {every: 'rolling', days}
    }
    case 'never':
      return argument === undefined ? {every: 'never'} : refuse(text, label)
    default:
      return refuse(text, label)
  }
}

/** Stored rules are few distinct strings read once per user on every check: each is parsed once. */
const storedRules = new Map<string, ResetRule>()

/** A rule as stored by sbq (already checked when it was written). */
export function storedResetRule(text: string): ResetRule {
  let rule = storedRules.get(text)
  if (rule === undefined) {
    rule = parseResetRule(text, 'stored reset rule')
    if (storedRules.size > 1000) storedRules.clear()
    storedRules.set(text, rule)
  }
  return rule
}

/** The monthly reset day of a rule, for views that still show one; null for every other rule. */
export function monthlyResetDay(rule: ResetRule): number | null {
  return rule.every === 'month' ? rule.day : null
}

/** Plain English, for tables and hints: `monthly on day 15`, `weekly on Monday`, `every 30 days`, `never`. */
export function describeResetRule(rule: ResetRule): string {
  switch (rule.every) {
    case 'month':
      return `monthly on day ${rule.day}`
    case 'week':
      return `weekly on ${['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'][rule.weekday - 1]}`
    case 'day':
      return 'daily'
    case 'year':
      return `yearly on ${formatResetRule(rule).slice('yearly:'.length)}`
    case 'rolling':
      return `every ${rule.days} days`
    case 'never':
      return 'never'
  }
}
