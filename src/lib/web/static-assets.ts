import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

/** The dashboard's stylesheet and script: real files in the package (src/lib/web/static), never a CDN. */
export interface StaticAsset {
  body: Buffer
  contentType: string
  /** Part of the asset's URL, so a new version is never read from a browser's cache. */
  version: string
}

const files = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
} as const

export type AssetName = keyof typeof files

/** The package root: the nearest folder up with a package.json, from the bundle (dist/bundle) and dist/src alike. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`sbq's package.json was not found above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
  return dir
}

/** Reads every asset once, at start. */
export function loadStaticAssets(): Map<AssetName, StaticAsset> {
  const dir = join(packageRoot(), 'src', 'lib', 'web', 'static')
  return new Map(
    (Object.entries(files) as Array<[AssetName, string]>).map(([name, contentType]) => {
      const body = readFileSync(join(dir, name))
      return [name, {body, contentType, version: createHash('sha256').update(body).digest('hex').slice(0, 12)}]
    }),
  )
}
