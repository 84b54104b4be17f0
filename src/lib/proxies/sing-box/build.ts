/**
 * Which sing-box build a node runs, for `sbq node test` when the v2ray_api does not answer: official release builds
 * (release/DEFAULT_BUILD_TAGS) have no `with_v2ray_api` and refuse any config with a v2ray_api listener
 * (include/v2rayapi_stub.go), while every build since 1.12 has the SSM API.
 */
import {findOnPath} from '../../config-file/find-on-path.js'
import {readConfigText} from '../../config-file/read-config.js'
import {runCommand} from '../../config-file/run-command.js'
import {ExitCode, SbqError, unreachable} from '../../errors.js'
import type {ProxyNode} from '../proxy-driver.js'

const versionTimeoutMs = 5_000

/** The `Tags:` line of `sing-box version` (cmd/sing-box/cmd_version.go), or null when sing-box is not on PATH. */
async function buildTags(env: NodeJS.ProcessEnv): Promise<{binary: string; tags: string[]} | null> {
  const binary = findOnPath('sing-box', env)
  if (binary === null) return null
  const result = await runCommand([binary, 'version'], {timeoutMs: versionTimeoutMs})
  if (result.exitCode !== 0) return null
  const line = /^Tags: (.*)$/m.exec(result.stdout)?.[1] ?? ''
  return {binary, tags: line.split(',').filter(Boolean)}
}

async function hasSsmApi(node: ProxyNode): Promise<boolean> {
  if (node.config_path === null) return false
  try {
    return /"type"\s*:\s*"ssm-api"/.test(await readConfigText(node.config_path))
  } catch {
    return false
  }
}

/**
 * At `node add`, where the API may simply not be up yet: only the binary on PATH is evidence (a config that has both
 * an ssm-api service and a v2ray_api runs on a build with both).
 */
export async function pathBuildWithoutV2rayApi(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const build = await buildTags(env)
  if (build === null || build.tags.includes('with_v2ray_api')) return null
  return `sing-box on sbq's PATH (${build.binary}) was built without with_v2ray_api (the official release builds are): only shadowsocks inbounds behind ssm-api can be metered, and a config with a v2ray_api does not start`
}

/** What sbq can say of the build when the v2ray_api did not answer; null when nothing points at a build without it. */
export async function missingV2rayApi(node: ProxyNode, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const build = await buildTags(env)
  if (build !== null && build.tags.includes('with_v2ray_api')) return null
  const ssm = await hasSsmApi(node)
  if (build === null && !ssm) return null
  const which =
    build !== null
      ? `sing-box on sbq's PATH (${build.binary}) was built without with_v2ray_api (the official release builds are)`
      : 'its config has an ssm-api service, the metering of official sing-box builds, which have no v2ray_api'
  return `${which}: only shadowsocks inbounds behind ssm-api can be metered there`
}

export const addSsmNodeHint =
  'add the shadowsocks inbound as a node of type sing-box-ssm, or build sing-box with -tags with_v2ray_api'

/** Adds the build diagnosis to a v2ray_api that did not answer. */
export async function explainUnanswered(node: ProxyNode, error: unknown): Promise<unknown> {
  if (!(error instanceof SbqError) || error.exit !== ExitCode.unreachable) return error
  const note = await missingV2rayApi(node)
  if (note === null) return error
  return unreachable(error.code, `${error.message}; ${note}`, addSsmNodeHint, error)
}
