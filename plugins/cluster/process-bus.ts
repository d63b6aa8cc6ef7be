import cluster, { type Worker } from 'node:cluster'
import { FST_FLEET_CLUSTER_BUS_TIMEOUT } from './errors.js'
import {
  BusLink, DEFAULT_BUS_TIMEOUT, isBatch, PRIMARY, Subscriptions, type Batch, type BusRequestOptions, type FleetBus
} from './bus.js'

export type { FleetBus } from './bus.js'

const report = (err: unknown): void => {
  process.emitWarning(err as Error)
}

/** The bus of a worker of a cluster: one link to the primary over `process.send`. */
function workerBus (): FleetBus {
  const subs = new Subscriptions()
  const where = `worker ${(cluster.worker as Worker).id}`
  const post = (batch: Batch): void => {
    // a closed channel (ERR_IPC_CHANNEL_CLOSED) or a failed write comes to the callback, which keeps
    // it from becoming an 'error' event (fatal without a listener)
    process.send?.(batch, undefined, undefined, (err) => { if (err != null) link.close(`the primary is gone (${err.message})`) })
  }
  const link = new BusLink(post, subs, PRIMARY, where, (topic, data, from) => subs.deliver(topic, data, from, report), report)
  process.on('message', (message) => { if (isBatch(message)) link.receive(message) })
  process.on('disconnect', () => link.close('the primary is gone (IPC channel closed)'))
  return {
    role: 'worker',
    request: (topic, data, options) => link.request(topic, data, options),
    broadcast: (topic, data) => link.cast(topic, data),
    handle: (topic, handler) => subs.handle(topic, handler),
    on: (topic, listener) => subs.on(topic, listener)
  }
}

/** The bus of a process that is not a worker: this process's own handlers answer, its listeners hear. */
export function standaloneBus (): FleetBus {
  const subs = new Subscriptions()
  return {
    role: 'standalone',
    request: async <R>(topic: string, data?: unknown, options: BusRequestOptions = {}): Promise<R> => {
      const timeout = options.timeout ?? DEFAULT_BUS_TIMEOUT
      let timer: NodeJS.Timeout | undefined
      const expired = new Promise<never>((resolve, reject) => {
        timer = setTimeout(() => reject(new FST_FLEET_CLUSTER_BUS_TIMEOUT(topic, timeout)), timeout)
      })
      try {
        const answered = new Promise((resolve) => { resolve(subs.answer(topic, data, PRIMARY, 'process')) })
        return await Promise.race([answered, expired]) as R
      } finally {
        clearTimeout(timer)
      }
    },
    broadcast: (topic, data) => { setImmediate(() => subs.deliver(topic, data, PRIMARY, report)) },
    handle: (topic, handler) => subs.handle(topic, handler),
    on: (topic, listener) => subs.on(topic, listener)
  }
}

let shared: FleetBus | undefined

/**
 * This process's end of the cluster's IPC bus, made on first use: in a worker of a cluster, a link
 * to the primary; in any other process, a standalone bus whose requests this process's own
 * handlers answer. The same object as `app.fleet.bus`.
 */
export function clusterBus (): FleetBus {
  shared ??= cluster.isWorker && typeof process.send === 'function' ? workerBus() : standaloneBus()
  return shared
}
