import {createHash} from 'node:crypto'
import type {IncomingMessage, ServerResponse} from 'node:http'
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

/** On every page sbq serves. The CSP allows this origin's script and stylesheet and nothing inline. */
export const securityHeaders: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
}

export interface AssetServer {
  /** Versioned URLs for pages to link. */
  urls: {css: string; js: string}
  /** Answers `/static/<name>` when the path names an asset; false (nothing sent) otherwise. */
  serve(request: IncomingMessage, response: ServerResponse, path: string): boolean
}

/** The stylesheet and script under `/static/`, for the dashboard and for users' pages alike. */
export function createAssetServer(): AssetServer {
  const assets = loadStaticAssets()
  return {
    urls: {
      css: `/static/dashboard.css?v=${assets.get('dashboard.css')!.version}`,
      js: `/static/dashboard.js?v=${assets.get('dashboard.js')!.version}`,
    },
    serve(request, response, path) {
      const name = path.startsWith('/static/') ? path.slice('/static/'.length) : ''
      const asset = assets.get(name as AssetName)
      if (asset === undefined) return false
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        request.resume()
        response.writeHead(405, {...securityHeaders, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8'})
        response.end('method not allowed\n')
        return true
      }
      const current = new URL(request.url ?? '/', 'http://sbq').searchParams.get('v') === asset.version
      response.writeHead(200, {
        ...securityHeaders,
        'content-type': asset.contentType,
        'content-length': String(asset.body.length),
        // Versioned URLs never change; an unversioned one is revalidated.
        'cache-control': current ? 'public, max-age=31536000, immutable' : 'no-cache',
        etag: `"${asset.version}"`,
      })
      response.end(request.method === 'HEAD' ? undefined : asset.body)
      return true
    },
  }
}
