/**
 * What the drivers that rewrite a config file share: where the file is, what loads it, and how many live calls run
 * at once.
 */
import {errorLine, runCommand} from '../../config-file/run-command.js'
import type {ApplySpec} from '../../config-file/replace-config.js'
import {unreachable} from '../../errors.js'
import type {ProxyNode} from '../proxy-driver.js'

const applyTimeoutMs = 60_000
const liveConcurrency = 16

export function managedInboundTags(node: Pick<ProxyNode, 'inbounds'>): string[] | undefined {
  return node.inbounds === null ? undefined : (JSON.parse(node.inbounds) as string[])
}

export function requireConfig(node: ProxyNode): string {
  if (node.config_path === null) {
    throw unreachable(
      'NODE_HAS_NO_CONFIG',
      `node "${node.name}" has no proxy config to rewrite`,
      `sbq node remove ${node.name}, then add it again with --config PATH`,
    )
  }
  return node.config_path
}

export function applySpec(node: ProxyNode): ApplySpec {
  if (node.apply_command === null) {
    throw unreachable(
      'NODE_HAS_NO_APPLY',
      `node "${node.name}" has no apply command to load its new config`,
      'add the node again with --apply "systemctl restart xray" (or what loads its config)',
    )
  }
  return {command: node.apply_command, timeoutMs: applyTimeoutMs}
}

export async function runApplyCommand(node: ProxyNode): Promise<void> {
  const spec = applySpec(node)
  const result = await runCommand(['/bin/sh', '-c', spec.command], {timeoutMs: spec.timeoutMs})
  if (result.exitCode !== 0 || result.timedOut) {
    throw unreachable(
      'APPLY_FAILED',
      `node "${node.name}": "${spec.command}" failed: ${errorLine(result, 'first')}`,
      'run it by hand to see why',
    )
  }
}

/** Runs the calls a few at a time: one node, many users, without opening a stream per user at once. */
export async function forEachLimited<T>(items: readonly T[], call: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await call(items[next++]!)
  }
  await Promise.all(Array.from({length: Math.min(liveConcurrency, items.length)}, worker))
}
