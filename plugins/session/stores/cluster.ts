import cluster from 'node:cluster'
import type { MemoryEntry, MemoryLimits } from '../../internal/memory-entries.js'
import { processBus } from '../../internal/process-bus.js'
import { SESSION_TOPIC, type SessionAnswer, type SessionRequest } from '../../internal/session-host.js'
import type { SessionBackend } from '../backend.js'
import { FST_FLEET_SESSION_CLUSTER_UNSUPPORTED } from '../errors.js'
import { invalid, splitOptions, type StoreOptions } from '../options.js'
import { BackendStore } from '../store.js'
import { MEMORY_KEYS, MemoryBackend, memoryLimits, tooLarge, type MemoryStoreOptions } from './memory.js'

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

/** A request as the store phrases it (the store name is added to each). */
type Ask = SessionRequest extends infer R ? R extends SessionRequest ? Omit<R, 'store'> : never : never

const isBusTimeout = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 'FST_FLEET_CLUSTER_BUS_TIMEOUT'

/** Set by `startCluster()` in the environment of the workers it forks. */
export const CLUSTER_WORKER_ENV = 'FLEET_CLUSTER_WORKER'

/** Why this process cannot reach a primary that keeps sessions, or `null` when it can (or runs alone). */
export function unsupportedCluster (env: NodeJS.ProcessEnv, isWorker: boolean): string | null {
  // PM2 in fork mode may run a startCluster() primary: its workers have pm_id too, with fork_mode
  if (env.pm_id !== undefined && env.exec_mode === 'cluster_mode') {
    return 'this process runs under PM2 cluster mode (PM2\'s daemon is the primary)'
  }
  if (isWorker && env[CLUSTER_WORKER_ENV] !== '1') return 'this worker was forked by another node:cluster primary'
  return null
}

/** The backend of `ClusterStore` in a worker: the sessions live in the primary, reached over the cluster bus. */
class PrimaryBackend implements SessionBackend {
  readonly #name: string
  readonly #limits: MemoryLimits
  readonly #now: () => number
  readonly #bus = processBus()
  readonly #busOptions: { timeout: number }

  constructor (name: string, limits: MemoryLimits, now: () => number, timeout: number) {
    this.#name = name
    this.#limits = limits
    this.#now = now
    this.#busOptions = { timeout }
  }

  /** The bus gives up after the store's timeout: no second timer per call. */
  readonly isTimeout = isBusTimeout

  #ask<T extends SessionAnswer>(request: Ask): Promise<T> {
    (request as SessionRequest).store = this.#name
    return this.#bus.request<T>(SESSION_TOPIC, request, this.#busOptions)
  }

  read (sid: string): Promise<MemoryEntry | null> {
    return this.#ask<MemoryEntry | null>({ op: 'read', sid })
  }

  write (sid: string, text: string, expiresAt: number): Promise<void> {
    // the limits travel with writes only: the first write of a store makes its set in the primary
    return this.#ask<boolean>({ op: 'write', sid, text, expiresAt, limits: this.#limits }).then((stored) => {
      if (!stored) throw tooLarge(sid, text, this.#limits.maxBytes)
    })
  }

  refresh (sid: string, expiresAt: number): Promise<boolean> {
    return this.#ask<boolean>({ op: 'refresh', sid, expiresAt, now: this.#now() })
  }

  async remove (sid: string): Promise<void> {
    await this.#ask<boolean>({ op: 'remove', sid })
  }

  ids (): Promise<string[]> {
    return this.#ask<string[]>({ op: 'ids', now: this.#now() })
  }

  async clear (): Promise<void> {
    await this.#ask<boolean>({ op: 'clear' })
  }

  close (): void {
    // the sessions belong to the primary, shared with the other workers: they stay
  }
}

/**
 * Sessions shared by every worker of a `startCluster()` cluster without an external server: they
 * live in the primary (bounded and expiring like `MemoryStore`), and each worker reaches them over
 * the cluster's IPC bus. They survive the crash or restart of any worker, not the primary's: for
 * durability, or for several machines, use `RedisStore`. In a process that is not a worker (one
 * worker, `FLEET_CLUSTER=0`, tests) the sessions live in the process, like `MemoryStore`.
 */
export class ClusterStore extends BackendStore {
  /** `primary` when the sessions live in the cluster's primary, `local` when in this process. */
  readonly mode: 'primary' | 'local'

  constructor (options: ClusterStoreOptions = {}) {
    const { own, common } = splitOptions(options, [...MEMORY_KEYS, 'name'])
    const name = own.name ?? CLUSTER_DEFAULTS.name
    if (typeof name !== 'string' || name.length === 0) invalid('name', `expected a non-empty string, got ${typeof name === 'string' ? 'an empty string' : typeof name}`)
    const limits = memoryLimits(own)
    const why = unsupportedCluster(process.env, cluster.isWorker)
    if (why !== null) throw new FST_FLEET_SESSION_CLUSTER_UNSUPPORTED(why)
    const now = typeof common.now === 'function' ? common.now as () => number : Date.now
    const timeout = common.timeout ?? CLUSTER_DEFAULTS.timeout
    const backend = cluster.isWorker
      ? new PrimaryBackend(name, limits, now, timeout as number) // (`timeout` checked by the store)
      : new MemoryBackend(limits, now)
    super(backend, { elisionMemo: limits.maxEntries, ...common, timeout: timeout as number })
    this.mode = cluster.isWorker ? 'primary' : 'local'
  }
}
