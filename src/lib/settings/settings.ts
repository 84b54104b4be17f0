import {readSettings, writeSetting} from '../db/settings-repository.js'
import type {Db} from '../db/open-database.js'
import {invalidInput} from '../errors.js'
import {assertTimeZone, systemTimeZone} from '../time/zoned-time.js'

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
    throw invalidInput('UNKNOWN_SETTING', `setting "${key}" does not exist`, `known settings: ${Object.keys(specs).join(', ')}`)
  }
  return spec
}

export async function getSettings(db: Db, key?: string): Promise<SettingView[]> {
  const keys = key === undefined ? Object.keys(specs) : [key]
  const stored = await readSettings(db)
  return keys.map((name) => {
    const spec = specFor(name)
    const value = stored.get(name)
    return {key: name, value: value ?? spec.defaultValue(), isDefault: value === undefined, description: spec.description}
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
  const [setting] = await getSettings(db, 'timezone')
  return setting!.value
}
