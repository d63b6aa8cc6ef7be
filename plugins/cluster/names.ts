/**
 * The names fastify-fleet/cluster puts in the environment of its workers and on the IPC bus, in
 * one place. Topics starting with `fleet:` are the cluster's own; pick others for your own.
 */

/** Environment variables. */
export const ENV = {
  /** `0` runs `startCluster()`'s app in the process itself (no fork). */
  inProcess: 'FLEET_CLUSTER',
  /** `1` in every worker `startCluster()` forks (how a worker knows its primary is ours). */
  worker: 'FLEET_CLUSTER_WORKER',
  /** The worker's slot (0 to `workers - 1`), kept by its replacement. */
  slot: 'FLEET_WORKER_SLOT'
} as const

/** Bus topics. */
export const TOPICS = {
  /** worker → primary: what `primary` (the setup option) resolved to, for `build`'s `shared`. */
  shared: 'fleet:shared',
  /** worker → primary: listening, with its address. */
  ready: 'fleet:ready',
  /** primary → worker: the heartbeat; the worker answers with its memory and event-loop delay. */
  ping: 'fleet:ping',
  /** worker → primary: the cluster's status (`app.fleet.status()`). */
  status: 'fleet:status',
  /** primary → worker: drain and exit. */
  drain: 'fleet:drain',
  /** worker → primary: a call on a shared map (`shared-map.ts`). */
  sharedMap: 'fleet:shared-map',
  /** worker → primary: poll these files (`{ paths, interval }`) and say when they change. */
  watchFiles: 'fleet:watch-files',
  /** primary → all: the files of a `watchFiles` request changed (`{ paths }`). */
  filesChanged: 'fleet:files-changed',
  /** primary → worker: reload the TLS certificates of this worker's servers (`handle.reloadCertificates()`). */
  reloadCertificates: 'fleet:reload-certificates'
} as const

/**
 * Why this process cannot reach a primary of `startCluster()`, or `null` when it can (or runs
 * alone): PM2's cluster mode (its daemon is the primary), or a worker forked by another primary.
 */
export function missingFleetPrimary (env: NodeJS.ProcessEnv, isWorker: boolean): string | null {
  // PM2 in fork mode may run a startCluster() primary: its workers have pm_id too, with fork_mode
  if (env.pm_id !== undefined && env.exec_mode === 'cluster_mode') {
    return 'this process runs under PM2 cluster mode (PM2\'s daemon is the primary)'
  }
  if (isWorker && env[ENV.worker] !== '1') return 'this worker was forked by another node:cluster primary'
  return null
}
