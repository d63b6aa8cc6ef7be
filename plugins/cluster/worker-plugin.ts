import cluster from 'node:cluster'
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { clusterBus, type FleetBus } from './process-bus.js'
import { ConnectionTracker, type DrainReport } from './drain.js'
import { check, ms } from './options.js'
import { missingFleetPrimary, TOPICS } from './names.js'
import { localStatus, sampleEventLoop, type FleetStatus } from './status.js'

/** Options of `fleetWorker`. */
export interface FleetWorkerOptions {
  /**
   * Milliseconds a drain waits for what is in flight before destroying the connections left.
   * @default 10000
   */
  shutdownTimeout?: number
  /**
   * Longest wait, in milliseconds, for each of the two PING round trips of an HTTP/2 session's
   * drain (before the first GOAWAY, while its responses do not end, and after it), when the client
   * does not answer; and how long an idle HTTP/1.1 keep-alive connection may still bring a request
   * (answered with `Connection: close`) before the drain closes it.
   * @default 1000
   */
  noticeWait?: number
}

export const WORKER_DEFAULTS = {
  shutdownTimeout: 10000,
  noticeWait: 1000
} as const satisfies Required<FleetWorkerOptions>

/** `fastify.fleet`: this process in the cluster. */
export interface FleetWorkerDecoration {
  /** `cluster.worker.id`; `0` when the process is not a worker. */
  readonly workerId: number
  readonly pid: number
  /** The IPC bus (a standalone one outside a cluster: this process's handlers answer). */
  readonly bus: FleetBus
  /** `true` once a drain has started. */
  readonly draining: boolean
  /**
   * Drains the server (two-step GOAWAY for HTTP/2, `Connection: close` for HTTP/1.1, then stop
   * accepting); resolves when every connection is gone. `app.close()` drains too, first; but
   * Fastify answers 503 to the requests that reach it once `close()` has started (those a client
   * sent before it read the notice), so call `drain()` before `close()` to serve them.
   */
  drain: () => Promise<DrainReport>
  /**
   * The cluster's status (`FleetStatus`): in a worker of a `startCluster()` cluster, asked of the
   * primary over the bus (rejecting with the bus's coded error, such as `FST_FLEET_CLUSTER_BUS_CLOSED`
   * when the primary is gone); in any other process, this process alone: `primary: null` and one
   * worker with its own memory and event-loop delay.
   */
  status: () => Promise<FleetStatus>
}

declare module 'fastify' {
  interface FastifyInstance {
    fleet: FleetWorkerDecoration
  }
}

function normalize (options: FleetWorkerOptions): Required<FleetWorkerOptions> {
  const input = check.object('options', options)
  check.known(input, Object.keys(WORKER_DEFAULTS))
  return {
    shutdownTimeout: ms('shutdownTimeout', input.shutdownTimeout, WORKER_DEFAULTS.shutdownTimeout, 1),
    noticeWait: ms('noticeWait', input.noticeWait, WORKER_DEFAULTS.noticeWait, 1)
  }
}

// async: a bad option rejects registration (a synchronous throw would escape avvio)
const plugin: FastifyPluginAsync<FleetWorkerOptions> = async (fastify, options) => {
  const opts = normalize(options)
  // registered twice (by the app and by startCluster): the first one serves
  if (fastify.hasDecorator('fleet')) return
  const tracker = new ConnectionTracker(fastify.server)
  const drain = async (): Promise<DrainReport> => await tracker.drain({ timeout: opts.shutdownTimeout, noticeWait: opts.noticeWait })
  const bus = clusterBus()
  const workerId = cluster.worker?.id ?? 0
  const inCluster = bus.role === 'worker' && missingFleetPrimary(process.env, cluster.isWorker) === null
  sampleEventLoop()
  const status = (): Promise<FleetStatus> => inCluster
    ? bus.request<FleetStatus>(TOPICS.status)
    : Promise.resolve(localStatus(workerId, tracker.draining ? 'draining' : fastify.server.listening ? 'ready' : 'starting'))
  const decoration: FleetWorkerDecoration = {
    workerId,
    pid: process.pid,
    bus,
    get draining () { return tracker.draining },
    drain,
    status
  }
  fastify.decorate('fleet', decoration)
  // app.close() drains first, so it neither waits for idle HTTP/2 sessions nor cuts what is in
  // flight (Fastify has already closed its routes when preClose runs: new requests get a 503)
  fastify.addHook('preClose', async () => { await drain() })
}

/**
 * The worker side of fastify-fleet/cluster: decorates `fastify.fleet` (worker id, pid, IPC bus,
 * `drain()`, `status()`) and makes `app.close()` drain gracefully. Works with or without `startCluster()`.
 */
export const fleetWorker = fp(plugin, { fastify: '5.x', name: 'fastify-fleet-cluster' })
