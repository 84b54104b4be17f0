import type {Db} from '../db/open-database.js'
import {settingValue} from '../settings/settings.js'
import type {AlertRules} from '../domain/due-alerts.js'

/** The thresholds and expiry window in force; settings are validated when stored, so this only parses. */
export async function readAlertRules(db: Db): Promise<AlertRules> {
  const [thresholds, expiryDays] = await Promise.all([
    settingValue(db, 'alert-thresholds'),
    settingValue(db, 'alert-expiry-days'),
  ])
  return {
    thresholds: thresholds
      .split(',')
      .map(Number)
      .sort((a, b) => a - b),
    expiryDays: Number(expiryDays),
  }
}
