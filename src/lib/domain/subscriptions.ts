import {limitedForSharing, maxIpsCoolDownReason, monthlyLimitReason, totalLimitReason} from './decide-status.js'

/**
 * What a subscription answers, pure: which body a client wants, and the headers proxy clients read a quota from.
 * `subscription-userinfo` is the de-facto header (v2rayN, Clash Verge/mihomo, Shadowrocket, Hiddify, sing-box apps):
 * `upload=U; download=D; total=T; expire=E`, bytes and unix seconds, 0 for "none".
 */
export type SubscriptionFormat = 'base64' | 'clash' | 'sing-box'

export const subscriptionFormats: readonly SubscriptionFormat[] = ['base64', 'clash', 'sing-box']

/**
 * `?format=` when given (undefined when it names no format), else by User-Agent: Clash, mihomo and Stash read Clash
 * YAML; sing-box and its apps (SFA, SFI, SFM) sing-box JSON; everything else (v2rayN, v2rayNG, Shadowrocket,
 * Hiddify, NekoBox) the base64 list of links.
 */
export function subscriptionFormat(format: string | null, userAgent: string): SubscriptionFormat | undefined {
  if (format !== null) return subscriptionFormats.find((known) => known === format.trim().toLowerCase())
  const agent = userAgent.toLowerCase()
  if (/clash|mihomo|stash/.test(agent)) return 'clash'
  if (/sing-box|\bsf[aim]\b|\bsf[aim]\//.test(agent)) return 'sing-box'
  return 'base64'
}

export interface SubscriptionUsage {
  periodUp: number
  periodDown: number
  /** This period's allowance, top-ups included; 0 when unlimited. */
  allowance: number
  /** Traffic packages' bytes left: spent after the allowance, so a client's total is the allowance (or what is already past it) plus these. */
  packagesLeft: number
  expiresAt: string | null
}

export function subscriptionUserinfo(usage: SubscriptionUsage): string {
  const expire = usage.expiresAt === null ? 0 : Math.floor(Date.parse(usage.expiresAt) / 1000)
  const used = usage.periodUp + usage.periodDown
  const total =
    usage.allowance === 0 || usage.packagesLeft === 0
      ? usage.allowance
      : Math.max(used, usage.allowance) + usage.packagesLeft
  return `upload=${usage.periodUp}; download=${usage.periodDown}; total=${total}; expire=${expire}`
}

/** A header value must be ASCII: a title with other characters goes as `base64:…`, which the clients decode. */
export function profileTitleHeader(title: string): string {
  return /^[\x20-\x7e]*$/.test(title) ? title : `base64:${Buffer.from(title, 'utf8').toString('base64')}`
}

/**
 * The title a client shows: the user's name, and for a user who cannot connect now, why; a monthly limit says the
 * day it lifts (the period's end), which is when a check lets the user back.
 */
export function profileTitle(user: {
  name: string
  status: string
  statusReason: string | null
  /** Null: the period never ends (reset rule `never`), so a period limit does not lift by itself. */
  periodEnd: string | null
}): string {
  if (user.status === 'active') return user.name
  const reason = user.statusReason === null ? '' : ` (${user.statusReason})`
  const lifts =
    user.statusReason?.startsWith(monthlyLimitReason) === true && user.periodEnd !== null
      ? `, back on ${user.periodEnd.slice(0, 10)}`
      : ''
  return `${user.name}: ${user.status}${reason}${lifts}`
}

/**
 * Why a user cannot connect now, in terms a user's page can say in their language: a monthly limit lifts on the
 * period's end; a lifetime limit and a pause need the operator; sharing limits lift after a cool-down. Null when
 * the user is active.
 */
export type OffReason =
  | {kind: 'monthly'; backOn: string}
  | {kind: 'total'}
  | {kind: 'sharing'}
  | {kind: 'expired'; at: string | null}
  | {kind: 'disabled'; reason: string | null}
  | {kind: 'limited'; reason: string | null}

export function offReason(user: {
  status: string
  statusReason: string | null
  periodEnd: string | null
  expiresAt: string | null
}): OffReason | null {
  const reason = user.statusReason
  switch (user.status) {
    case 'active':
      return null
    case 'expired':
      return {kind: 'expired', at: user.expiresAt}
    case 'disabled':
      return {kind: 'disabled', reason}
  }
  if (reason?.startsWith(monthlyLimitReason) === true)
    return user.periodEnd === null ? {kind: 'total'} : {kind: 'monthly', backOn: user.periodEnd}
  if (reason?.startsWith(totalLimitReason) === true) return {kind: 'total'}
  if (limitedForSharing({status: 'limited', statusReason: reason}) || reason === maxIpsCoolDownReason)
    return {kind: 'sharing'}
  return {kind: 'limited', reason}
}

/** The list of links most clients import: one link a line, base64 (standard alphabet) as a whole. */
export function base64LinkList(links: readonly string[]): string {
  return Buffer.from(links.join('\n'), 'utf8').toString('base64')
}
