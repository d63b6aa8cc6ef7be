import cluster from 'node:cluster'
import type { BusListener } from './bus.js'
import { clusterBus } from './process-bus.js'

/** Messages of one topic to the other processes of the cluster: what `fleetCors`'s `cache.invalidation` takes. */
export interface BusChannel<T> {
  /** Sends `data` to the subscribers of every other process of the cluster. */
  publish: (data: T) => void
  /** Calls `listener` with what the other processes publish; returns an unsubscribe function. */
  subscribe: (listener: (data: T) => void) => () => void
}

/** The part of a bus (a worker's `clusterBus()`, or the primary's `handle.bus`) a channel uses. */
export interface BroadcastBus {
  broadcast: (topic: string, data?: unknown) => void
  on: (topic: string, listener: BusListener) => () => void
}

/**
 * A channel over the broadcasts of `topic`: what one process publishes reaches the others, not
 * itself (a broadcast reaches its sender too). Outside a cluster there is no other process.
 *
 * ```ts
 * await app.register(fleetCors, { origin: lookup, cache: { invalidation: busChannel<string | undefined>('cors:invalidate') } })
 * ```
 */
export function busChannel<T = unknown> (topic: string, bus: BroadcastBus = clusterBus()): BusChannel<T> {
  const self = cluster.worker?.id ?? 0
  return {
    publish: (data) => { bus.broadcast(topic, data) },
    subscribe: (listener) => bus.on(topic, (data: T, from) => { if (from.workerId !== self) listener(data) })
  }
}
