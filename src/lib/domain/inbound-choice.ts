import {invalidInput} from '../errors.js'

/**
 * Which inbounds (by tag) a user gets: a plan may name them, a user may name their own or say "all"; otherwise every
 * managed inbound. Stored as text: a JSON list of tags, or `*` for "all" on a user (a plan's null already means all,
 * and a user's null means "the plan's").
 */
export type InboundChoice = readonly string[] | null

/** What `--inbounds` says: tags, every inbound, or (for a user) back to the plan's choice. */
export type InboundsFlag = {tags: string[]} | {all: true} | {plan: true}

const allMarker = '*'
const tagPattern = /^[\x21-\x7e]{1,64}$/

/** `--inbounds vless-reality,trojan-in`, `--inbounds all`, or for a user `--inbounds plan`. */
export function parseInboundsFlag(value: string, forUser: boolean): InboundsFlag {
  const trimmed = value.trim()
  if (trimmed === 'all') return {all: true}
  if (forUser && trimmed === 'plan') return {plan: true}
  const tags = [...new Set(trimmed.split(',').map((tag) => tag.trim()))]
  const bad = tags.find((tag) => !tagPattern.test(tag) || tag === allMarker)
  if (bad !== undefined || tags.length === 0)
    throw invalidInput(
      'INBOUNDS_INVALID',
      `inbounds "${value}" is not a list of inbound tags`,
      `give tags separated by commas, like --inbounds vless-in,trojan-in, or all${forUser ? ', or plan' : ''}`,
    )
  return {tags: tags.sort()}
}

/** The column's text for a flag: a user's "all" is `*` (overriding a plan), a plan's "all" is null. */
export function storedInbounds(flag: InboundsFlag, forUser: boolean): string | null {
  if ('tags' in flag) return JSON.stringify(flag.tags)
  if ('all' in flag) return forUser ? allMarker : null
  return null
}

/** A stored column back as a choice: null is "no choice here", `*` is every inbound. */
function decode(text: string | null): InboundChoice | undefined {
  if (text === null) return undefined
  if (text === allMarker) return null
  return JSON.parse(text) as string[]
}

/** The choice that holds for a user: their own, else their plan's, else every managed inbound. */
export function effectiveInbounds(userText: string | null, planText: string | null): InboundChoice {
  const own = decode(userText)
  if (own !== undefined) return own
  return decode(planText) ?? null
}

/** For `user show` and `plan list`: the tags, or "all". */
export function describeInbounds(choice: InboundChoice): string {
  return choice === null ? 'all' : choice.join(',')
}
