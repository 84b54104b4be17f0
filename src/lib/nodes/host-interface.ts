import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import type {InterfaceCounters} from '../domain/interface-drift.js'
import {invalidInput, notFound} from '../errors.js'

// Linux's interface names: at most 15 bytes (IFNAMSIZ - 1), no slash or space, never "." or "..".
const interfaceNamePattern = /^[A-Za-z0-9_.:@+-]{1,15}$/

/** Where the kernel shows its interfaces; `SBQ_SYSFS_ROOT` replaces /sys, for tests and debugging only. */
function sysfsRoot(): string {
  return process.env.SBQ_SYSFS_ROOT || '/sys'
}

/** A host interface name as given to `--interface`, or exit 2 naming it. */
export function assertInterfaceName(name: string): string {
  if (!interfaceNamePattern.test(name) || name === '.' || name === '..')
    throw invalidInput(
      'INTERFACE_INVALID',
      `interface "${name}" is not a network interface name`,
      'give a name that ip link lists, like eth0, or none to stop comparing',
    )
  return name
}

/**
 * The interface's byte counters now, from /sys/class/net/NAME/statistics. Exit 3 when this host has no such
 * interface: the comparison only means something where sbq runs on the proxy's own host.
 */
export function readInterfaceCounters(name: string): InterfaceCounters {
  const statistics = join(sysfsRoot(), 'class', 'net', assertInterfaceName(name), 'statistics')
  return {rx: readCounter(name, join(statistics, 'rx_bytes')), tx: readCounter(name, join(statistics, 'tx_bytes'))}
}

function readCounter(name: string, path: string): number {
  let text: string
  try {
    text = readFileSync(path, 'utf8').trim()
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error)
    throw notFound(
      'INTERFACE_NOT_FOUND',
      `interface "${name}" cannot be read on this host: ${path}: ${reason}`,
      'give an interface of the host sbq runs on (ip link lists them), or --interface none; drift is only measured where sbq runs on the proxy host',
    )
  }
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(value))
    throw notFound(
      'INTERFACE_NOT_FOUND',
      `interface "${name}" has no byte counter sbq can read: ${path} holds "${text.slice(0, 40)}"`,
      'give an interface of the host sbq runs on (ip link lists them), or --interface none',
    )
  return value
}
