import type {Context} from '../context.js'
import type {Db} from '../db/open-database.js'
import {syncNodes} from '../enforcement/sync-nodes.js'
import {invalidInput} from '../errors.js'
import {parseLimitFlags, type LimitFlagText} from '../domain/limit-flags.js'
import {setQuota, topUp} from '../quotas/quota-service.js'
import {resetUsage} from '../quotas/reset-usage.js'
import {parseSize} from '../domain/size.js'
import {addUser, removeUser, setUserStatus, type StatusChange, type UserWithCredentials} from '../users/user-service.js'
import type {MessageKey, Translate} from './i18n/messages.js'
import {formatSize} from './pages/view-format.js'
import {rotateSubscription} from '../share-links/subscription.js'

/**
 * The dashboard's forms, each one a call of the domain function its CLI command calls (with the web's Context, so
 * every event says actor `web`), then the nodes brought in line as `--apply` does. A node that cannot be reached
 * is a warning on the page: the change is saved and the next check retries it.
 */

export interface ActionResult {
  lines: string[]
  warnings: string[]
}

/** Form field names for error messages, as the form labels them. */
const fieldLabels: Record<keyof LimitFlagText, string> = {
  monthly: 'monthly quota',
  total: 'total quota',
  'reset-day': 'reset day',
  reset: 'reset rule',
  'max-ips': 'max IPs',
  expires: 'expiry',
  from: 'expiry start',
  'first-use-by': 'first use deadline',
}

/** A form field's text, or undefined when it is missing or blank (blank means "leave as it is"). */
function field(form: URLSearchParams, name: string): string | undefined {
  const value = form.get(name)?.trim()
  return value === undefined || value === '' ? undefined : value
}

function limitFields(form: URLSearchParams): LimitFlagText {
  return {
    monthly: field(form, 'monthly'),
    total: field(form, 'total'),
    'reset-day': field(form, 'reset_day'),
    reset: field(form, 'reset'),
    'max-ips': field(form, 'max_ips'),
    expires: field(form, 'expires'),
  }
}

/** Puts the saved change on every node; what a node refused becomes a warning line, never a failed action. */
export async function syncAfterChange(db: Db, context: Context, t: Translate): Promise<string[]> {
  try {
    const nodes = await syncNodes(db, {}, context)
    return nodes.flatMap((node) => [
      ...(node.error === null
        ? []
        : [
            t('flash.nodeFailed', {
              node: node.name,
              error: node.hint === null ? node.error : `${node.error} (${node.hint})`,
            }),
          ]),
      ...(node.warning === null ? [] : [t('flash.nodeWarning', {node: node.name, warning: node.warning})]),
    ])
  } catch (error) {
    return [t('flash.nodeFailed', {node: '*', error: (error as Error).message})]
  }
}

export async function addUserFromForm(db: Db, form: URLSearchParams, context: Context): Promise<UserWithCredentials> {
  const name = field(form, 'name') ?? ''
  const limits = parseLimitFlags(limitFields(form), context, (flag) => fieldLabels[flag])
  return addUser(db, {name, ...limits, plan: field(form, 'plan'), note: field(form, 'note')}, context)
}

export async function setQuotaFromForm(
  db: Db,
  name: string,
  form: URLSearchParams,
  context: Context,
  t: Translate,
): Promise<ActionResult> {
  const limits = parseLimitFlags(limitFields(form), context, (flag) => fieldLabels[flag])
  const planField = field(form, 'plan')
  const plan = planField === undefined ? undefined : planField === 'none' ? null : planField
  const before = await setQuota(db, name, {...limits, plan}, context)
  return {lines: [t('flash.quota', {name: before.name})], warnings: await syncAfterChange(db, context, t)}
}

export async function topUpFromForm(
  db: Db,
  name: string,
  form: URLSearchParams,
  context: Context,
  t: Translate,
): Promise<ActionResult> {
  const size = field(form, 'size')
  if (size === undefined)
    throw invalidInput('INVALID_SIZE', `top-up size for user "${name}" is empty`, 'give a size like 10 (GiB) or 500M')
  const bytes = parseSize(size, 'top-up size')
  await topUp(db, name, bytes, field(form, 'note') ?? null, context)
  return {lines: [t('flash.topup', {name, size: formatSize(bytes)})], warnings: await syncAfterChange(db, context, t)}
}

export async function setStatusFromForm(
  db: Db,
  name: string,
  to: 'active' | 'disabled',
  form: URLSearchParams,
  context: Context,
  t: Translate,
): Promise<ActionResult> {
  const change: StatusChange = await setUserStatus(
    db,
    name,
    to,
    to === 'disabled' ? (field(form, 'reason') ?? null) : null,
    context,
  )
  const status = (value: string) => t(`status.${value}` as MessageKey)
  const line = change.changed
    ? t(to === 'active' ? 'flash.enabled' : 'flash.disabled', {name, from: status(change.from)})
    : t(to === 'active' ? 'flash.alreadyActive' : 'flash.alreadyDisabled', {name})
  return {lines: [line], warnings: change.changed ? await syncAfterChange(db, context, t) : []}
}

export async function resetFromForm(db: Db, name: string, context: Context, t: Translate): Promise<ActionResult> {
  const result = await resetUsage(db, {name}, context)
  const status = (value: string) => t(`status.${value}` as MessageKey)
  const lines = [
    t('flash.reset', {name}),
    ...result.changes.map((change) =>
      t('flash.statusChange', {name: change.user, from: status(change.from), to: status(change.to)}),
    ),
  ]
  return {lines, warnings: await syncAfterChange(db, context, t)}
}

export async function rotateLinkFromForm(db: Db, name: string, context: Context, t: Translate): Promise<ActionResult> {
  const rotated = await rotateSubscription(db, name, context)
  return {lines: [t('flash.rotated', {name: rotated.user})], warnings: []}
}

export async function removeFromForm(db: Db, name: string, context: Context, t: Translate): Promise<ActionResult> {
  await removeUser(db, name, context)
  return {lines: [t('flash.removed', {name})], warnings: await syncAfterChange(db, context, t)}
}
