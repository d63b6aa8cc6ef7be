import cluster from 'node:cluster'
import { FST_FLEET_CLUSTER_BUS_TIMEOUT, missingFleetPrimary, sharedMap, type SharedMap } from '../../cluster/index.js'
import type { SessionBackend, StoredSession } from '../backend.js'
import { FST_FLEET_SESSION_CLUSTER_UNSUPPORTED } from '../errors.js'
import type { InvalidationChannel } from '../invalidation.js'
import { check, normalizeStoreOptions, splitOptions, type StoreOptions } from '../options.js'
import { BackendStore } from '../store.js'
import { clusterInvalidation } from './cluster-invalidation.js'
import { MEMORY_KEYS, memoryLimits, tooLarge, type MemoryStoreOptions } from './memory.js'

/** Options of `ClusterStore`. */
export interface ClusterStoreOptions extends StoreOptions, Pick<MemoryStoreOptions, 'maxEntries' | 'maxBytes'> {
  /**
   * Name of the session set in the primary: stores with the same name (in any worker) share it.
   * @default 'sessions'
   */
  name?: string
  /**
   * Milliseconds a call to the primary may take before it fails with `FST_FLEET_SESSION_TIMEOUT`.
   * @default 1000
   */
  timeout?: number
}

export const CLUSTER_DEFAULTS = {
  name: 'sessions',
  timeout: 1000
} as const satisfies Pick<Required<ClusterStoreOptions>, 'name' | 'timeout'>

/** The backend of `ClusterStore`: a shared map of fastify-fleet/cluster (in the primary, or in this process outside a cluster). */
class SharedMapBackend implements SessionBackend {
  constructor (private readonly map: SharedMap, private readonly maxBytes: number | undefined) {}

  /** The bus gives up after the store's timeout: no second timer per call. */
  readonly isTimeout = (err: unknown): boolean => err instanceof FST_FLEET_CLUSTER_BUS_TIMEOUT

  read (sid: string): Promise<StoredSession | null> {
    return this.map.get(sid).then((entry) => entry === null ? null : { text: entry.value, expiresAt: entry.expiresAt })
  }

  write (sid: string, text: string, expiresAt: number): Promise<void> {
    return this.map.set(sid, text, expiresAt).then((stored) => {
      if (!stored) throw tooLarge(sid, text, this.maxBytes)
    })
  }

  refresh (sid: string, expiresAt: number): Promise<boolean> {
    return this.map.expire(sid, expiresAt)
  }

  remove (sid: string): Promise<void> {
    return this.map.delete(sid)
  }

  ids (): Promise<string[]> {
    return this.map.keys()
  }

  clear (): Promise<void> {
    return this.map.clear()
  }

  async close (): Promise<void> {
    // in the primary, the sessions are shared with the other workers: they stay; a local map is dropped
    if (this.map.location === 'local') await this.map.clear()
  }
}

/**
 * Sessions shared by every worker of a `startCluster()` cluster without an external server: they
 * live in a shared map of fastify-fleet/cluster, hosted by the primary (bounded and expiring like
 * `MemoryStore`), and each worker reaches them over the cluster's IPC bus. They survive the crash
 * or restart of any worker, not the primary's: for durability, or for several machines, use
 * `RedisStore`. In a process that is not a worker (one worker, `FLEET_CLUSTER=0`, tests) the
 * sessions live in the process, like `MemoryStore`.
 */
export class ClusterStore extends BackendStore {
  /** `primary` when the sessions live in the cluster's primary, `local` when in this process. */
  readonly mode: 'primary' | 'local'
  readonly #map: SharedMap

  constructor (options: ClusterStoreOptions = {}) {
    const { own, common } = splitOptions(options, [...MEMORY_KEYS, 'name'])
    const name = check.string('name', own.name, CLUSTER_DEFAULTS.name)
    const limits = memoryLimits(own)
    const why = missingFleetPrimary(process.env, cluster.isWorker)
    if (why !== null) throw new FST_FLEET_SESSION_CLUSTER_UNSUPPORTED(why)
    const storeOptions: StoreOptions = { elisionMemo: limits.maxEntries, ...common, timeout: (common.timeout ?? CLUSTER_DEFAULTS.timeout) as number }
    // checked before the map is made with them (the store checks them again: the cost of a constructor)
    const { timeout, now } = normalizeStoreOptions(storeOptions)
    const map = sharedMap(name, { ...limits, timeout, now })
    super(new SharedMapBackend(map, limits.maxBytes), storeOptions)
    this.mode = map.location
    this.#map = map
  }

  /**
   * A new channel for `TieredStore`'s invalidation: broadcasts on the cluster bus, topic
   * `session:invalidate:<name>` (`cluster-invalidation.ts`); `null` outside a cluster, where the
   * sessions live in this process alone.
   */
  invalidationChannel (): InvalidationChannel | null {
    if (this.mode === 'local') return null
    const map = this.#map
    return clusterInvalidation(`session:invalidate:${map.name}`, () => map.get(''), this.options.timeout)
  }
}
