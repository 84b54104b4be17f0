/**
 * Every proxy type sbq knows, one line each. Adding a type is a folder implementing ProxyDriver, a line here and a
 * harness in the shared driver contract test (test/adapters/driver-contract.test.ts), which refuses a type without one.
 */
import {invalidInput, unreachable, type SbqError} from '../errors.js'
import {threeXUiDriver} from './3x-ui/index.js'
import type {ProxyApi, ProxyDriver} from './proxy-driver.js'
import {singBoxSsmDriver} from './sing-box-ssm/index.js'
import {singBoxDriver} from './sing-box/index.js'
import {v2rayDriver} from './v2ray/index.js'
import {xrayDriver} from './xray/index.js'

export const proxyDrivers: readonly ProxyDriver[] = [
  xrayDriver,
  v2rayDriver,
  singBoxDriver,
  singBoxSsmDriver,
  threeXUiDriver,
]

export const nodeTypes: readonly string[] = proxyDrivers.map((driver) => driver.type)

/** The driver for a type the operator gave (`node add --type`): an unknown one is bad input, with the known ones. */
export function driverForInput(type: string): ProxyDriver {
  const driver = proxyDrivers.find((candidate) => candidate.type === type)
  if (!driver)
    throw invalidInput(
      'INVALID_NODE_TYPE',
      `node type "${type}" is not supported`,
      `use one of: ${nodeTypes.join(', ')}`,
    )
  return driver
}

/**
 * The driver of a stored node. A type this sbq does not know (a newer sbq stored it, or a hand edit) fails that node
 * alone, as an unreachable one does: the other nodes are still pulled and put in line, and users are still judged.
 */
export function driverOf(node: {name: string; type: string}): ProxyDriver {
  return proxyDrivers.find((candidate) => candidate.type === node.type) ?? unknownTypeDriver(node)
}

function unknownTypeDriver(node: {name: string; type: string}): ProxyDriver {
  const refuse = (): SbqError =>
    unreachable(
      'NODE_TYPE_UNKNOWN',
      `node "${node.name}" has type "${node.type}", which this sbq does not know`,
      `upgrade sbq to the version that added it, or: sbq node remove ${node.name}`,
    )
  return {
    type: node.type,
    traffic: 'pulled',
    defaultApplyCommand: null,
    onlineIps: false,
    connect: () => Promise.reject(refuse()),
    applyUsers: () => Promise.reject(refuse()),
    probe: () => Promise.reject(refuse()),
  }
}

/** The node's API client, or exit 2 when its type reports by itself and has none. */
export async function connectNode(
  node: {type: string; name: string; api: string},
  timeoutMs?: number,
): Promise<ProxyApi> {
  const driver = driverOf(node)
  if (!driver.connect) {
    throw invalidInput(
      'NODE_HAS_NO_PROXY_API',
      `a ${node.type} node has no proxy API sbq reads`,
      'its traffic arrives through sbq serve; its users are switched through the panel',
    )
  }
  return driver.connect(node, timeoutMs)
}
