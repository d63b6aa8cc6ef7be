import cluster, { type Worker } from 'node:cluster'
import { clusterBus } from './process-bus.js'
import { TOPICS } from './names.js'
import { FST_FLEET_CLUSTER_INVALID_APP, FST_FLEET_CLUSTER_RELOAD_UNAVAILABLE } from './errors.js'
import type { AnyFastifyInstance as FastifyInstance, NormalizedClusterOptions } from './options.js'
import { fleetWorker } from './worker-plugin.js'
import { sampleEventLoop, workerReport, type FleetStatus } from './status.js'

/** What `startCluster()` returns in a worker, or in a single process. */
export interface WorkerHandle {
  readonly role: 'worker' | 'single'
  /** The app this process serves. */
  readonly app: FastifyInstance
  /** Drains and closes the app; resolves with the exit code it deserves (0, or 1 if closing failed). */
  stop: () => Promise<number>
  /** Rejects with `FST_FLEET_CLUSTER_RELOAD_UNAVAILABLE`: only the primary of a cluster reloads. */
  reload: () => Promise<never>
  /** `app.fleet.status()`: the cluster's status, asked of the primary; in a single process, this process alone (`primary: null`). */
  status: () => Promise<FleetStatus>
}

const isFastify = (value: unknown): value is FastifyInstance =>
  typeof value === 'object' && value !== null &&
  typeof (value as FastifyInstance).listen === 'function' && typeof (value as FastifyInstance).register === 'function'

/** Builds the app with `fleetWorker` registered, and listens. */
async function startApp (opts: NormalizedClusterOptions, workerId: number, shared: unknown): Promise<FastifyInstance> {
  const app = await opts.build({ workerId, shared })
  if (!isFastify(app)) throw new FST_FLEET_CLUSTER_INVALID_APP(app === null ? 'null' : typeof app)
  await app.register(fleetWorker, { shutdownTimeout: opts.shutdownTimeout })
  await app.listen(opts.listen)
  return app
}

function stopper (app: FastifyInstance): () => Promise<number> {
  let stopping: Promise<number> | undefined
  return async () => {
    stopping ??= (async () => {
      try {
        await app.fleet.drain()
        await app.close()
        return 0
      } catch (err) {
        app.log.error({ err }, 'closing the app failed')
        return 1
      }
    })()
    return await stopping
  }
}

/** A worker of a cluster: builds, listens, says it is ready, drains on the primary's word. */
export async function runWorker (opts: NormalizedClusterOptions): Promise<WorkerHandle> {
  const bus = clusterBus()
  sampleEventLoop()
  const answer = await bus.request<{ shared: unknown, none: boolean }>(TOPICS.shared, null, { timeout: opts.readyTimeout })
  const app = await startApp(opts, (cluster.worker as Worker).id, answer.none ? undefined : answer.shared)
  const stop = stopper(app)
  const stopAndExit = (): void => {
    // the worker's own entry point (startCluster) ends the process once the app is closed
    stop().then((code) => process.exit(code))
  }
  bus.handle(TOPICS.ping, () => workerReport())
  bus.handle(TOPICS.drain, () => {
    stopAndExit()
    return true
  })
  // the primary is gone (killed): nobody routes connections here any more, so drain and exit;
  // node:cluster would exit at once on an unexpected disconnect, before any listener of ours runs
  cluster.worker?.once('disconnect', () => { (cluster.worker as Worker).exitedAfterDisconnect = true })
  process.once('disconnect', stopAndExit)
  if (opts.signals) {
    // a terminal's Ctrl-C reaches the whole process group: drain like the primary asks
    process.once('SIGTERM', stopAndExit)
    process.once('SIGINT', stopAndExit)
    // SIGHUP is the primary's (rolling restart); the default action would end this worker
    process.on('SIGHUP', () => {})
  }
  const address = app.server.address()
  await bus.request(TOPICS.ready, { pid: process.pid, address }, { timeout: opts.readyTimeout })
  return { role: 'worker', app, stop, reload: unavailable('only the primary of a cluster reloads its workers'), status: app.fleet.status }
}

const unavailable = (why: string) => async (): Promise<never> => { throw new FST_FLEET_CLUSTER_RELOAD_UNAVAILABLE(why) }

/** One process, no fork (`workers: 1` or `FLEET_CLUSTER=0`). */
export async function runSingle (opts: NormalizedClusterOptions): Promise<WorkerHandle> {
  const app = await startApp(opts, 0, await opts.primary())
  const stopApp = stopper(app)
  let stopping: Promise<number> | undefined
  const stop = async (): Promise<number> => {
    stopping ??= (async () => {
      const code = await stopApp()
      await opts.onStop()
      return code
    })()
    return await stopping
  }
  opts.logger.info({ workers: 1, address: app.server.address() }, 'listening in a single process')
  if (opts.signals) {
    const onSignal = (signal: string): void => {
      opts.logger.info({ signal }, 'stopping')
      stop().then((code) => process.exit(code))
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    process.on('SIGHUP', () => opts.logger.warn({}, 'SIGHUP ignored: a rolling restart needs at least 2 workers'))
  }
  return { role: 'single', app, stop, reload: unavailable('the app runs in a single process (workers: 1 or FLEET_CLUSTER=0)'), status: app.fleet.status }
}
