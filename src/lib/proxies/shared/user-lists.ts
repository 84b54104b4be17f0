/**
 * What the sing-box and Xray/V2Ray user-list rewriters share: loading a config for editing, the errors a config can
 * earn, picking a shadowsocks key for a method, and merging users found in several inbounds for `--import`.
 */
import {unreachable, type SbqError} from '../../errors.js'
import {isPlaceholderUser} from './placeholder-user.js'
import type {ImportedUser, ManagedUser, UserCredentials} from '../proxy-driver.js'
import {
  JsonSyntaxError,
  jsonEqual,
  parseJsonDocument,
  parseJsonValue,
  toValue,
  type JsonNode,
  type JsonValue,
} from '../../config-file/json-document.js'
import {DuplicateKeyError, applyEdits, type ArrayItem, type TextEdit} from '../../config-file/json-edit.js'

export type ProxyKind = 'sing-box' | 'xray' | 'v2ray'

export type {ImportedUser}

export interface ImportedInbound {
  tag: string
  users: ImportedUser[]
}

export interface MergedImportedUser {
  name: string
  /** The first value seen for each field, in inbound order. */
  credentials: Partial<UserCredentials>
  /** Tags of the inbounds the user was found in. */
  inbounds: string[]
  /** Fields that had different values in different inbounds; the caller decides (the first value is kept above). */
  conflicts: (keyof UserCredentials)[]
  /** Per field, the tags of the inbounds that gave it a value, in inbound order (the first gave the kept value). */
  fieldInbounds: Partial<Record<keyof UserCredentials, string[]>>
}

export interface UserListRewrite {
  text: string
  /** False when the config already says exactly this; `text` is then the input, byte for byte. */
  changed: boolean
  /** Tags of the inbounds whose user list changed. */
  changedInbounds: string[]
}

export interface ConfigContext {
  proxy: ProxyKind
  /** How to name the config in messages, usually its path. */
  source: string | undefined
}

export function describeConfig(ctx: ConfigContext): string {
  return ctx.source === undefined ? `the ${ctx.proxy} config` : `${ctx.proxy} config "${ctx.source}"`
}

const UNCHANGED = 'sbq did not change it'

export function configInvalid(ctx: ConfigContext, detail: string): SbqError {
  return unreachable('CONFIG_INVALID', `${describeConfig(ctx)} ${detail}`, `fix the file by hand; ${UNCHANGED}`)
}

export function inboundNotFound(ctx: ConfigContext, tag: string): SbqError {
  return unreachable(
    'INBOUND_NOT_FOUND',
    `inbound "${tag}" is not in ${describeConfig(ctx)}`,
    `check the tags given for this node; ${UNCHANGED}`,
  )
}

export function inboundUnsupported(ctx: ConfigContext, tag: string, why: string): SbqError {
  return unreachable(
    'INBOUND_UNSUPPORTED',
    `inbound "${tag}" in ${describeConfig(ctx)} ${why}`,
    `leave it out of this node's inbounds; ${UNCHANGED}`,
  )
}

/** Parses the config text, turning syntax errors into the node-level error the CLI reports. */
export function loadDocument(ctx: ConfigContext, text: string): {root: JsonNode & {kind: 'object'}} {
  let root: JsonNode
  try {
    root = parseJsonDocument(text)
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      throw configInvalid(ctx, `is not valid JSON at line ${error.line}, column ${error.column}: ${error.reason}`)
    }
    throw error
  }
  if (root.kind !== 'object') throw configInvalid(ctx, 'is not a JSON object at the top level')
  return {root}
}

/** Runs a reader over the document, reporting an ambiguous (duplicated) key as an invalid config. */
export function withDuplicateKeysRefused<T>(ctx: ConfigContext, run: () => T): T {
  try {
    return run()
  } catch (error) {
    if (error instanceof DuplicateKeyError) throw configInvalid(ctx, `has the key "${error.key}" twice in one object`)
    throw error
  }
}

/**
 * Applies the edits and proves the result: re-parsed, it must equal the expected value exactly (every key sbq does
 * not own included). A mismatch is a bug in sbq, never something to write to a proxy.
 */
export function applyVerified(text: string, edits: readonly TextEdit[], expected: JsonValue): string {
  const out = applyEdits(text, edits)
  const actual = parseJsonValue(out)
  if (!jsonEqual(actual, expected)) throw new Error('config rewrite produced a different document than intended')
  return out
}

/**
 * Desired users in a stable order (by name), so the same set always renders the same text whatever order the
 * caller read them in; a node is then only touched when its users really change.
 */
export function orderDesired(desired: readonly ManagedUser[]): ManagedUser[] {
  const sorted = [...desired].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.name === sorted[i - 1]?.name) throw new Error(`desired users name "${sorted[i]?.name}" twice`)
  }
  return sorted
}

export function is2022Method(method: string | undefined): boolean {
  return method !== undefined && method.toLowerCase().startsWith('2022-blake3-')
}

export {shadowsocksKey} from '../../domain/traffic.js'

export function shadowsocksCredentials(method: string | undefined, key: string): Partial<UserCredentials> {
  return method?.toLowerCase() === '2022-blake3-aes-128-gcm' ? {password16: key} : {password: key}
}

/** The most common non-empty value (first seen wins a tie), e.g. the vless flow an inbound's users share. */
export function mostCommon(values: readonly (string | undefined)[]): string | undefined {
  const counts = new Map<string, number>()
  for (const v of values) if (v !== undefined && v !== '') counts.set(v, (counts.get(v) ?? 0) + 1)
  let best: string | undefined
  let bestCount = 0
  for (const [v, n] of counts) {
    if (n > bestCount) {
      best = v
      bestCount = n
    }
  }
  return best
}

/** One entry per user name across inbounds, for `--import`. */
export function mergeImportedUsers(inbounds: readonly ImportedInbound[]): MergedImportedUser[] {
  const byName = new Map<string, MergedImportedUser>()
  for (const inbound of inbounds) {
    for (const user of inbound.users) {
      let merged = byName.get(user.name)
      if (merged === undefined) {
        merged = {name: user.name, credentials: {}, inbounds: [], conflicts: [], fieldInbounds: {}}
        byName.set(user.name, merged)
      }
      if (!merged.inbounds.includes(inbound.tag)) merged.inbounds.push(inbound.tag)
      for (const field of ['uuid', 'password', 'password16'] as const) {
        const value = user.credentials[field]
        if (value === undefined) continue
        const tags = (merged.fieldInbounds[field] ??= [])
        if (!tags.includes(inbound.tag)) tags.push(inbound.tag)
        const current = merged.credentials[field]
        if (current === undefined) merged.credentials[field] = value
        else if (current !== value && !merged.conflicts.includes(field)) merged.conflicts.push(field)
      }
    }
  }
  return [...byName.values()]
}

/** What a rewrite did to an inbound's placeholder: what the live API has to repeat. */
export type PlaceholderChange = 'none' | 'added' | 'kept' | 'replaced' | 'removed'

export interface UserListPlan {
  items: ArrayItem[]
  placeholder: PlaceholderChange
}

/**
 * The entries one managed inbound's list gets: the entries sbq does not manage (kept in place) and the desired users;
 * or, when that leaves nobody, exactly one locked placeholder (see placeholder-user.ts). A placeholder already there
 * is kept byte for byte while it still fits, so a config with nothing to change is not rewritten or reloaded.
 */
export function planUserList(
  entries: readonly JsonNode[],
  nameOf: (entry: JsonNode) => string | undefined,
  managed: ReadonlySet<string>,
  desired: readonly JsonValue[],
  placeholderEntry: JsonValue,
): UserListPlan {
  const existing: JsonNode[] = []
  const kept: JsonNode[] = []
  for (const entry of entries) {
    const name = nameOf(entry)
    if (isPlaceholderUser(name)) existing.push(entry)
    else if (name === undefined || !managed.has(name)) kept.push(entry)
  }
  if (kept.length + desired.length > 0) {
    return {
      items: [...kept.map((keep) => ({keep})), ...desired.map((value) => ({value}))],
      placeholder: existing.length > 0 ? 'removed' : 'none',
    }
  }
  const fitting = existing.find((entry) => sameShape(toValue(entry), placeholderEntry))
  if (fitting !== undefined) return {items: [{keep: fitting}], placeholder: 'kept'}
  return {items: [{value: placeholderEntry}], placeholder: existing.length > 0 ? 'replaced' : 'added'}
}

const secretKeys: ReadonlySet<string> = new Set(['id', 'uuid', 'password', 'auth_str'])

/**
 * Whether an existing placeholder is one sbq would write now: the same keys and settings (flow, method, alterId,
 * level), and secrets of the same length (a shadowsocks method changed from 128 to 256 bits needs a longer key).
 */
function sameShape(existing: JsonValue, fresh: JsonValue): boolean {
  const a = asObject(existing)
  const b = asObject(fresh)
  if (a === undefined || b === undefined) return false
  const keys = Object.keys(b)
  if (Object.keys(a).length !== keys.length) return false
  return keys.every((key) => {
    const x = a[key]
    const y = b[key]
    if (secretKeys.has(key)) return typeof x === 'string' && typeof y === 'string' && x.length === y.length
    return jsonEqual(x, y)
  })
}

/** Plain-object access on parsed values, for building the expected document. */
export function asObject(value: JsonValue | undefined): {[key: string]: JsonValue} | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined
}
