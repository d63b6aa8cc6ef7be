import { entrySize, MemoryEntries, type MemoryEntry, type MemoryLimits } from '../../internal/memory-entries.js'
import type { SessionBackend } from '../backend.js'
import { FST_FLEET_SESSION_TOO_LARGE } from '../errors.js'
import { check, splitOptions, type StoreOptions } from '../options.js'
import { BackendStore } from '../store.js'

/** Options of `MemoryStore`. */
export interface MemoryStoreOptions extends StoreOptions {
  /**
   * Most sessions kept; past it, the least recently used one is dropped.
   * @default 10000
   */
  maxEntries?: number
  /**
   * Bound on the stored data: the characters of the ids and serialized sessions (V8 keeps JSON of
   * ASCII text at one byte per character). Each entry also costs about 350 bytes of bookkeeping
   * (measured on Node 20: 10,000 sessions of 220 characters take 6 MB), bounded by `maxEntries`.
   * Past it, the least recently used sessions are dropped; a single session larger than this fails
   * with `FST_FLEET_SESSION_TOO_LARGE`.
   * @default undefined (no bound in bytes)
   */
  maxBytes?: number
}

export const MEMORY_DEFAULTS = {
  maxEntries: 10000
} as const satisfies Pick<Required<MemoryStoreOptions>, 'maxEntries'>

export const MEMORY_KEYS = ['maxEntries', 'maxBytes'] as const

/** `maxEntries` and `maxBytes` of the options, checked. */
export function memoryLimits (options: Record<string, unknown>): { maxEntries: number, maxBytes: number | undefined } {
  return {
    maxEntries: check.number('maxEntries', options.maxEntries, MEMORY_DEFAULTS.maxEntries, { min: 1, integer: true }),
    maxBytes: options.maxBytes === undefined ? undefined : check.number('maxBytes', options.maxBytes, 0, { min: 1, integer: true })
  }
}

/** The error of a session larger than `maxBytes`. */
export const tooLarge = (sid: string, text: string, maxBytes: number | undefined): Error =>
  new FST_FLEET_SESSION_TOO_LARGE(entrySize({ text, expiresAt: 0 }, sid), maxBytes)

/** The backend of `MemoryStore` (and of `ClusterStore` outside a cluster): entries in this process, answered synchronously. */
export class MemoryBackend implements SessionBackend {
  readonly #entries: MemoryEntries
  readonly #now: () => number

  constructor (limits: MemoryLimits, now: () => number) {
    this.#entries = new MemoryEntries(limits)
    this.#now = now
  }

  read (sid: string): MemoryEntry | null {
    return this.#entries.read(sid) ?? null
  }

  write (sid: string, text: string, expiresAt: number): void {
    if (!this.#entries.write(sid, text, expiresAt)) throw tooLarge(sid, text, this.#entries.maxBytes)
  }

  refresh (sid: string, expiresAt: number): boolean {
    return this.#entries.refresh(sid, expiresAt, this.#now())
  }

  remove (sid: string): void {
    this.#entries.remove(sid)
  }

  ids (): string[] {
    return this.#entries.ids(this.#now())
  }

  clear (): void {
    this.#entries.clear()
  }

  close (): void {
    this.#entries.clear()
  }
}

/**
 * Sessions in this process's memory: bounded (`maxEntries`, optional `maxBytes`) with
 * least-recently-used eviction (`lru-cache`), each expiring with its cookie. Entries are the
 * serialized text, so every `get` returns a fresh copy. It runs no timer: an expired entry is
 * dropped when read, listed or evicted. For one process only; workers of a cluster need
 * `ClusterStore`.
 */
export class MemoryStore extends BackendStore {
  constructor (options: MemoryStoreOptions = {}) {
    const { own, common } = splitOptions(options, MEMORY_KEYS)
    const limits = memoryLimits(own)
    const now = typeof common.now === 'function' ? common.now as () => number : Date.now
    super(new MemoryBackend(limits, now), { elisionMemo: limits.maxEntries, ...common })
  }
}
