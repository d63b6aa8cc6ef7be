/**
 * A map every worker of a `startCluster()` cluster shares, hosted by the primary: string values
 * under string keys, each until an expiry, bounded in count (and optionally in size) with
 * least-recently-used eviction. ClusterStore keeps its sessions in one; anything else that several
 * workers must agree on (rate-limit counters, one-time tokens) can too, without an external server.
 * Outside a cluster the map lives in the process.
 */
import cluster from 'node:cluster'
import { MemoryEntries, type MemoryEntry, type MemoryLimits } from '../internal/memory-entries.js'
import { FST_FLEET_CLUSTER_NO_FLEET_PRIMARY } from './errors.js'
import { check } from './options.js'
import { missingFleetPrimary, TOPICS } from './names.js'
import { clusterBus } from './process-bus.js'

/** Options of `sharedMap()`. */
export interface SharedMapOptions {
  /**
   * Most entries kept; past it, the least recently used one is dropped.
   * @default 10000
   */
  maxEntries?: number
  /**
   * Bound on the characters of the keys and values; past it, the least recently used entries are
   * dropped, and `set` of a single entry larger than this answers `false`.
   * @default undefined (no bound in characters)
   */
  maxBytes?: number
  /**
   * Milliseconds a call to the primary may take before it fails with `FST_FLEET_CLUSTER_BUS_TIMEOUT`.
   * @default 1000
   */
  timeout?: number
  /**
   * The clock that decides expiry, in milliseconds since the epoch (tests pass a fake one).
   * @default Date.now
   */
  now?: () => number
}

export const SHARED_MAP_DEFAULTS = {
  maxEntries: 10000,
  timeout: 1000,
  now: Date.now
} as const satisfies Required<Omit<SharedMapOptions, 'maxBytes'>>

/** An entry of a shared map. */
export interface SharedMapEntry {
  value: string
  /** When it expires, in milliseconds since the epoch. */
  expiresAt: number
}

/**
 * A map shared by the workers of a cluster. Every call answers with a promise: over IPC to the
 * primary in a worker, at once (a resolved promise) in a process that is not one.
 */
export interface SharedMap {
  readonly name: string
  /** `primary` when the entries live in the cluster's primary, `local` when in this process. */
  readonly location: 'primary' | 'local'
  /** The entry under `key`, or `null`. An entry may have expired (expiry is checked by the caller's clock). */
  get: (key: string) => Promise<SharedMapEntry | null>
  /** Stores `value` under `key` until `expiresAt`; `false` (nothing stored) when it alone is larger than `maxBytes`. */
  set: (key: string, value: string, expiresAt: number) => Promise<boolean>
  /** Moves the expiry of a live entry; `false` when there is none. */
  expire: (key: string, expiresAt: number) => Promise<boolean>
  delete: (key: string) => Promise<void>
  /** The keys of the live entries (expired ones are dropped on the way). */
  keys: () => Promise<string[]>
  clear: () => Promise<void>
}

/** A call of a worker's map to the primary (the limits travel with writes only: the first makes the map). */
export type SharedMapRequest =
  | { map: string, op: 'get', key: string }
  | { map: string, op: 'set', key: string, value: string, expiresAt: number, limits: MemoryLimits }
  | { map: string, op: 'expire', key: string, expiresAt: number, now: number }
  | { map: string, op: 'delete', key: string }
  | { map: string, op: 'keys', now: number }
  | { map: string, op: 'clear' }

/** The answer to each call. */
type SharedMapAnswer = SharedMapEntry | boolean | string[] | null

const entryOf = (entry: MemoryEntry | undefined): SharedMapEntry | null =>
  entry === undefined ? null : { value: entry.text, expiresAt: entry.expiresAt }

/**
 * The primary's side: one bounded set of entries per map name, made by the first write to it with
 * the limits that write carries (every worker runs the same code, so they agree; the other calls
 * leave them out). Until then the map reads as empty. Entries live as long as the primary does.
 */
export function sharedMapHost (): (request: SharedMapRequest) => SharedMapAnswer {
  const maps = new Map<string, MemoryEntries>()
  const none = new MemoryEntries({ maxEntries: 1 })
  return (request) => {
    let entries = maps.get(request.map)
    if (entries === undefined) {
      if (request.op !== 'set') entries = none
      else maps.set(request.map, entries = new MemoryEntries(request.limits))
    }
    switch (request.op) {
      case 'get': return entryOf(entries.read(request.key))
      case 'set': return entries.write(request.key, request.value, request.expiresAt)
      case 'expire': return entries.refresh(request.key, request.expiresAt, request.now)
      case 'delete': entries.remove(request.key); return true
      case 'keys': return entries.ids(request.now)
      case 'clear': entries.clear(); return true
    }
  }
}

/**
 * The shared map `name` (maps of the same name, in any worker, are one). In a worker of a
 * `startCluster()` cluster the entries live in the primary; in any other process, in the process.
 * Throws `FST_FLEET_CLUSTER_NO_FLEET_PRIMARY` in a worker that no `startCluster()` primary serves.
 */
export function sharedMap (name: string, options: SharedMapOptions = {}): SharedMap {
  check.string('name', name, '')
  const limits: MemoryLimits = {
    maxEntries: check.number('maxEntries', options.maxEntries, SHARED_MAP_DEFAULTS.maxEntries, { min: 1, integer: true }),
    maxBytes: options.maxBytes === undefined ? undefined : check.number('maxBytes', options.maxBytes, 0, { min: 1, integer: true })
  }
  const timeout = check.number('timeout', options.timeout, SHARED_MAP_DEFAULTS.timeout, { min: 1, max: 2 ** 31 - 1 })
  const now = check.fn('now', options.now, SHARED_MAP_DEFAULTS.now, 'a function returning milliseconds')
  const missing = missingFleetPrimary(process.env, cluster.isWorker)
  if (missing !== null) throw new FST_FLEET_CLUSTER_NO_FLEET_PRIMARY(name, missing)
  return cluster.isWorker ? primaryMap(name, limits, timeout, now) : localMap(name, limits, now)
}

function localMap (name: string, limits: MemoryLimits, now: () => number): SharedMap {
  const entries = new MemoryEntries(limits)
  return {
    name,
    location: 'local',
    get: async (key) => entryOf(entries.read(key)),
    set: async (key, value, expiresAt) => entries.write(key, value, expiresAt),
    expire: async (key, expiresAt) => entries.refresh(key, expiresAt, now()),
    delete: async (key) => { entries.remove(key) },
    keys: async () => entries.ids(now()),
    clear: async () => { entries.clear() }
  }
}

function primaryMap (name: string, limits: MemoryLimits, timeout: number, now: () => number): SharedMap {
  const bus = clusterBus()
  const busOptions = { timeout }
  const ask = <T extends SharedMapAnswer>(request: SharedMapRequest): Promise<T> => bus.request<T>(TOPICS.sharedMap, request, busOptions)
  return {
    name,
    location: 'primary',
    get: (key) => ask<SharedMapEntry | null>({ map: name, op: 'get', key }),
    set: (key, value, expiresAt) => ask<boolean>({ map: name, op: 'set', key, value, expiresAt, limits }),
    expire: (key, expiresAt) => ask<boolean>({ map: name, op: 'expire', key, expiresAt, now: now() }),
    delete: async (key) => { await ask({ map: name, op: 'delete', key }) },
    keys: () => ask<string[]>({ map: name, op: 'keys', now: now() }),
    clear: async () => { await ask({ map: name, op: 'clear' }) }
  }
}
