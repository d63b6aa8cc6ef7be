import cluster from 'node:cluster'
import { normalizeOptions, type StartClusterOptions } from './options.js'
import { runPrimary, type PrimaryHandle } from './primary.js'
import { runSingle, runWorker, type WorkerHandle } from './worker.js'
import { fleetWorker } from './worker-plugin.js'

export { fleetWorker }
export default fleetWorker
export * from './errors.js'
export type { BuildContext, ClusterLogger, RestartOptions, StartClusterOptions } from './options.js'
export type { PrimaryHandle, ReloadReport, WorkerInfo } from './primary.js'
export type { PrimaryBus } from './primary-bus.js'
export type { WorkerHandle } from './worker.js'
export type { FleetWorkerDecoration, FleetWorkerOptions } from './worker-plugin.js'
export type { DrainReport } from './drain.js'
export type { WorkerCertificate, WorkerCertificatesReport } from './certificates.js'
export type { EventLoopDelayStatus, FleetStatus, MemoryStatus, WorkerStatus } from './status.js'
export type { BusHandler, BusListener, BusOrigin, BusRequestOptions, FleetBus } from './bus.js'
export { clusterBus } from './process-bus.js'
export { busChannel, type BroadcastBus, type BusChannel } from './bus-channel.js'
export { sharedMap, type SharedMap, type SharedMapEntry, type SharedMapOptions } from './shared-map.js'
export { ENV, missingFleetPrimary, TOPICS } from './names.js'

/**
 * Runs the app on every core: in the primary, forks `workers` workers, replaces the ones that die
 * (with backoff, stopping on a crash loop), kills the unresponsive, drains all on SIGTERM/SIGINT and
 * restarts them one at a time on SIGHUP; in a worker, builds the app with `fleetWorker`, listens and
 * says it is ready. Call it from the entry point, which runs in the primary and in every worker;
 * `primary` runs in the primary only, and what it resolves to reaches every `build` as `shared`.
 * `workers: 1` or `FLEET_CLUSTER=0` runs the app in this process. Invalid options reject.
 */
export async function startCluster<S = undefined> (options: StartClusterOptions<S>): Promise<PrimaryHandle | WorkerHandle> {
  const opts = normalizeOptions(options)
  if (cluster.isWorker) {
    try {
      return await runWorker(opts)
    } catch (err) {
      opts.logger.error({ err: (err as Error)?.message ?? String(err), code: (err as { code?: string })?.code }, 'worker failed to start')
      // the primary replaces it (with backoff) or declares a crash loop
      process.exit(1)
    }
  }
  if (opts.inProcess) {
    if (opts.execArgv.length > 0) opts.logger.warn({ execArgv: opts.execArgv }, 'execArgv applies to forked workers only: start this process with those flags')
    return await runSingle(opts)
  }
  // node:cluster's settings hold for every later fork: replacements get the same flags
  if (opts.execArgv.length > 0) cluster.setupPrimary({ execArgv: [...process.execArgv, ...opts.execArgv] })
  return runPrimary(opts, await opts.primary())
}
