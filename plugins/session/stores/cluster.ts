import cluster from 'node:cluster'
import { MemoryEntries, type MemoryEntry, type MemoryLimits } from '../../internal/memory-entries.js'
import { processBus, type FleetBus } from '../../internal/process-bus.js'
import { SESSION_TOPIC, type SessionAnswer, type SessionRequest } from '../../internal/session-host.js'
import { FST_FLEET_SESSION_CLUSTER_UNSUPPORTED, FST_FLEET_SESSION_TOO_LARGE } from '../errors.js'
import { invalid, isObject, type StoreOptions } from '../options.js'
import { BaseStore } from '../store-base.js'
import { MEMORY_KEYS, memoryLimits, type MemoryStoreOptions } from './memory.js'

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

/**
 * Sessions shared by every worker of a `startCluster()` cluster without an external server: they
 * live in the primary (bounded and expiring like `MemoryStore`), and each worker reaches them over
 * the cluster's IPC bus. They survive the crash or restart of any worker, not the primary's: for
 * durability, or for several machines, use `RedisStore`. In a process that is not a worker (one
 * worker, `FLEET_CLUSTER=0`, tests) the sessions live in the process, like `MemoryStore`.
 */
export class ClusterStore extends BaseStore {
  readonly #name: string
  readonly #limits: MemoryLimits
  readonly #local: MemoryEntries | null
  readonly #bus: FleetBus | null
  readonly #busOptions: { timeout: number }

  constructor (options: ClusterStoreOptions = {}) {
    const opts = options as Record<string, unknown>
    // anything but an object goes as it is, for the base to refuse with a coded error
    super(isObject(opts) ? { ...options, timeout: options.timeout ?? CLUSTER_DEFAULTS.timeout } : options, [...MEMORY_KEYS, 'name'])
    const name = opts.name ?? CLUSTER_DEFAULTS.name
    if (typeof name !== 'string' || name.length === 0) invalid('name', `expected a non-empty string, got ${typeof name === 'string' ? 'an empty string' : typeof name}`)
    this.#name = name
    this.#limits = memoryLimits(opts)
    const why = unsupportedCluster(process.env, cluster.isWorker)
    if (why !== null) throw new FST_FLEET_SESSION_CLUSTER_UNSUPPORTED(why)
    this.#local = cluster.isWorker ? null : new MemoryEntries(this.#limits)
    this.#bus = cluster.isWorker ? processBus() : null
    this.#busOptions = { timeout: this.options.timeout }
  }

  /** `primary` when the sessions live in the cluster's primary, `local` when in this process. */
  get mode (): 'primary' | 'local' {
    return this.#local === null ? 'primary' : 'local'
  }

  /** The bus gives up after the store's timeout: no second timer per call. */
  protected override get ownTimeout (): (err: unknown) => boolean {
    return isBusTimeout
  }

  #ask<T extends SessionAnswer>(request: Ask): Promise<T> {
    (request as SessionRequest).store = this.#name
    return (this.#bus as FleetBus).request<T>(SESSION_TOPIC, request, this.#busOptions)
  }

  protected read (sid: string): MemoryEntry | undefined | null | Promise<MemoryEntry | null> {
    return this.#local === null ? this.#ask<MemoryEntry | null>({ op: 'read', sid }) : this.#local.read(sid)
  }

  // local: answered at once (the base then calls back at once); in a worker: one promise, not awaited
  protected write (sid: string, text: string, expiresAt: number): void | Promise<void> {
    const tooLarge = (): Error => new FST_FLEET_SESSION_TOO_LARGE(sid.length + text.length, this.#limits.maxBytes)
    if (this.#local === null) {
      // the limits travel with writes only: the first write of a store makes its set in the primary
      return this.#ask<boolean>({ op: 'write', sid, text, expiresAt, limits: this.#limits }).then((stored) => { if (!stored) throw tooLarge() })
    }
    if (!this.#local.write(sid, text, expiresAt)) throw tooLarge()
  }

  protected refresh (sid: string, expiresAt: number): boolean | Promise<boolean> {
    const now = this.options.now()
    return this.#local === null ? this.#ask<boolean>({ op: 'refresh', sid, expiresAt, now }) : this.#local.refresh(sid, expiresAt, now)
  }

  protected remove (sid: string): void | Promise<void> {
    if (this.#local === null) return this.#ask<boolean>({ op: 'remove', sid }).then(() => undefined)
    this.#local.remove(sid)
  }

  protected async count (): Promise<number> {
    return (await this.listIds()).length
  }

  protected listIds (): string[] | Promise<string[]> {
    const now = this.options.now()
    return this.#local === null ? this.#ask<string[]>({ op: 'ids', now }) : this.#local.ids(now)
  }

  protected async removeAll (): Promise<void> {
    if (this.#local === null) await this.#ask<boolean>({ op: 'clear' })
    else this.#local.clear()
  }

  protected override shutdown (): void {
    // the sessions belong to the primary (shared with the other workers); a local set is dropped
    this.#local?.clear()
  }
}
