import {assertBaseUrl} from '../inform/inform-uri.js'
import {readSettings, writeSetting} from '../db/settings-repository.js'
import type {Db} from '../db/open-database.js'
import {invalidInput} from '../errors.js'
import {parseSize} from '../domain/size.js'
import {assertTimeZone} from '../domain/zoned-time.js'
import {systemTimeZone} from './system-time-zone.js'

const durationPattern = /^(\d{1,6})(s|m|h|d)?$/
const durationUnitMs: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

interface SettingSpec {
  description: string
  defaultValue: () => string
  /** Returns the value to store, or throws a one-line SbqError. */
  validate: (value: string) => string
}

const specs: Record<string, SettingSpec> = {
  timezone: {
    description: 'IANA time zone for billing periods, reports and day boundaries',
    defaultValue: systemTimeZone,
    validate: assertTimeZone,
  },
  'alert-thresholds': {
    description: 'percentages of the monthly allowance that send an alert, comma-separated',
    defaultValue: () => '80,100',
    validate: (value) => {
      const parts = value.split(',').map((part) => part.trim())
      if (
        parts.length === 0 ||
        parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) < 1 || Number(part) > 100)
      ) {
        throw invalidInput(
          'INVALID_SETTING',
          `alert-thresholds "${value}" is not a list of percentages`,
          'give numbers from 1 to 100, like 80,100',
        )
      }
      return [...new Set(parts.map(Number))].sort((a, b) => a - b).join(',')
    },
  },
  'alert-expiry-days': {
    description: 'days before expiry that send an alert (0 = none)',
    defaultValue: () => '3',
    validate: (value) => {
      if (!/^\d{1,3}$/.test(value.trim()))
        throw invalidInput(
          'INVALID_SETTING',
          `alert-expiry-days "${value}" is not a number of days`,
          'give a whole number like 3, or 0 for none',
        )
      return String(Number(value))
    },
  },
  'enforce-max-ips': {
    description: 'limit users seen on more distinct IPs than their max-ips (on/off); off only alerts',
    defaultValue: () => 'off',
    validate: (value) => {
      const normalised = value.trim().toLowerCase()
      if (!['on', 'off'].includes(normalised))
        throw invalidInput('INVALID_SETTING', `enforce-max-ips "${value}" is not on or off`, 'give on or off')
      return normalised
    },
  },
  'max-ips-cooldown': {
    description:
      'how long a user limited for too many IPs stays limited before a check may re-enable them, like 30m, 2h or 0',
    defaultValue: () => '30m',
    validate: (value) => {
      const match = durationPattern.exec(value.trim())
      if (!match || (match[2] === undefined && Number(match[1]) !== 0))
        throw invalidInput(
          'INVALID_SETTING',
          `max-ips-cooldown "${value}" is not a duration`,
          'give a duration like 30m, 2h or 1d, or 0 to re-enable at once',
        )
      return Number(match[1]) === 0 ? '0' : `${Number(match[1])}${match[2]!}`
    },
  },
  'validate-config': {
    description:
      "when to run the proxy's own config checker on a rewritten config: on-apply (when sbq reloads or restarts the proxy) or always",
    defaultValue: () => 'on-apply',
    validate: (value) => {
      const normalised = value.trim().toLowerCase()
      if (!['on-apply', 'always'].includes(normalised))
        throw invalidInput(
          'INVALID_SETTING',
          `validate-config "${value}" is not on-apply or always`,
          'give on-apply or always',
        )
      return normalised
    },
  },
  'inform-body-limit': {
    description:
      'largest 3x-ui report sbq serve accepts (bigger ones get 413, logged and counted on the node); 3x-ui sends every client every 5 s, 230-300 bytes each, so the default 64M takes about 220k clients',
    defaultValue: () => String(64 * 1024 * 1024),
    validate: (value) => {
      const bytes = parseSize(/^\d+$/.test(value.trim()) ? `${value.trim()}B` : value, 'inform-body-limit')
      if (bytes < 1024)
        throw invalidInput(
          'INVALID_SETTING',
          `inform-body-limit "${value}" is below 1K`,
          'give a size like 8M; 3x-ui sends about 200 bytes per client',
        )
      return String(bytes)
    },
  },
  'subscription-url': {
    description:
      "the base URL clients reach sbq serve at for subscriptions (https, behind a reverse proxy), like https://sub.example.com; sbq user link then prints each user's URL",
    defaultValue: () => '',
    validate: (value) =>
      value.trim() === '' ? '' : assertBaseUrl('subscription-url', value.trim()).replace(/\/+$/, ''),
  },
  'unmanaged-names-limit': {
    description:
      'most distinct names sbq does not manage that one node may add to the ledger a day; new ones past it are not recorded, and are logged and counted on the node',
    defaultValue: () => '10000',
    validate: (value) => {
      if (!/^\d{1,9}$/.test(value.trim()))
        throw invalidInput(
          'INVALID_SETTING',
          `unmanaged-names-limit "${value}" is not a whole number`,
          'give a number of names like 10000, or 0 to record none',
        )
      return String(Number(value))
    },
  },
  'drift-threshold': {
    description:
      "warn and alert when a node's counted bytes today fall below this percentage of half its host interface's bytes (node set --interface); off, or 1 to 100",
    defaultValue: () => 'off',
    validate: (value) => {
      const normalised = value.trim().toLowerCase().replace(/%$/, '')
      if (normalised === 'off' || normalised === '0') return 'off'
      if (!/^\d{1,3}$/.test(normalised) || Number(normalised) < 1 || Number(normalised) > 100)
        throw invalidInput(
          'INVALID_SETTING',
          `drift-threshold "${value}" is not a percentage or off`,
          'give a number from 1 to 100, like 50, or off',
        )
      return String(Number(normalised))
    },
  },
  'drift-min-bytes': {
    description:
      'bytes a host interface must carry in a day before drift is judged on it (small volumes are noisy), like 1G',
    defaultValue: () => String(1024 * 1024 * 1024),
    validate: (value) => String(parseSize(/^\d+$/.test(value.trim()) ? `${value.trim()}B` : value, 'drift-min-bytes')),
  },
}

export interface SettingView {
  key: string
  value: string
  isDefault: boolean
  description: string
}

function specFor(key: string): SettingSpec {
  const spec = specs[key]
  if (!spec) {
    throw invalidInput(
      'UNKNOWN_SETTING',
      `setting "${key}" does not exist`,
      `known settings: ${Object.keys(specs).join(', ')}`,
    )
  }
  return spec
}

export async function getSettings(db: Db, key?: string): Promise<SettingView[]> {
  const keys = key === undefined ? Object.keys(specs) : [key]
  const stored = await readSettings(db)
  return keys.map((name) => {
    const spec = specFor(name)
    const value = stored.get(name)
    return {
      key: name,
      value: value ?? spec.defaultValue(),
      isDefault: value === undefined,
      description: spec.description,
    }
  })
}

/** Sets a setting; `default` removes the stored value so the default applies again. */
export async function setSetting(db: Db, key: string, value: string): Promise<SettingView> {
  const spec = specFor(key)
  await writeSetting(db, key, value === 'default' ? null : spec.validate(value))
  const [view] = await getSettings(db, key)
  return view!
}

export async function installTimeZone(db: Db): Promise<string> {
  return settingValue(db, 'timezone')
}

/** One setting's value in force (stored or default), already validated. */
export async function settingValue(db: Db, key: string): Promise<string> {
  const [setting] = await getSettings(db, key)
  return setting!.value
}

/** A duration setting (validated as `30m`, `2h`, `0`) in milliseconds. */
export async function durationSettingMs(db: Db, key: string): Promise<number> {
  const [, amount, unit] = durationPattern.exec(await settingValue(db, key))!
  return Number(amount) * durationUnitMs[unit ?? 's']!
}
