import {existsSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'

import {chromium, type Browser} from 'playwright-core'

import {repoRoot} from './paths.js'

export const chromiumPath = '/usr/bin/chromium'

/**
 * Why the browser tests cannot run here, or null when they can. Without Debian's Chromium they are skipped with this
 * reason, except under CI, where a missing browser must fail them (`.ci/run` installs it).
 */
export function browserSkipReason(): string | null {
  if (existsSync(chromiumPath)) return null
  if (process.env.CI) return null
  return `${chromiumPath} not installed (apt-get install -y chromium)`
}

/**
 * Debian's Chromium, headless. This machine has no internet: background networking, component updates, sync and
 * QUIC are off so the browser makes no connections of its own.
 */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(chromiumPath))
    throw new Error(`${chromiumPath} is missing: run apt-get install -y chromium (CI installs it in .ci/run)`)
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      ...extraArgs,
    ],
  })
}

/** Where screenshots go (git-ignored), created on first use. */
export function artifactPath(name: string): string {
  const dir = join(repoRoot, 'test', 'artifacts')
  mkdirSync(dir, {recursive: true})
  return join(dir, name)
}
