import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {repoRoot} from './paths.js'

/** What scripts/postgres-cluster.mjs exports: plain JavaScript outside tsc, loaded from the checkout at run time. */
export interface ClusterScript {
  /** The newest installed PostgreSQL's bin directory, or undefined when there is none. */
  postgresBin(): string | undefined
  startCluster(options?: {durable?: boolean}): Promise<{dir: string; url: string}>
  stopCluster(dir: string): void
  /** Stops the server, keeping the data, until startServer. */
  stopServer(dir: string): void
  startServer(dir: string): void
}

/**
 * The throw-away cluster script, for a test that needs a PostgreSQL of its own (to stop and start it). The compiled
 * tests run from dist/, where a static import of ../../scripts/ would point at dist/scripts/, which tsc does not write.
 */
export async function clusterScript(): Promise<ClusterScript> {
  return (await import(pathToFileURL(join(repoRoot, 'scripts', 'postgres-cluster.mjs')).href)) as ClusterScript
}
