import { LRUCache } from 'lru-cache'
import { FST_FLEET_SESSION_TOO_LARGE } from '../errors.js'
import { numberOption, type StoreOptions } from '../options.js'
import { BaseStore } from '../store-base.js'

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
   * (measured on Node 20: 10,000 sessions of 220 characters take 6 MB), bounded by `maxEntries`. Past it, the least recently used sessions are dropped; a single session larger
   * than this fails with `FST_FLEET_SESSION_TOO_LARGE`.
   * @default undefined (no bound in bytes)
   */
  maxBytes?: number
}

export const MEMORY_DEFAULTS = {
  maxEntries: 10000
} as const satisfies Pick<Required<MemoryStoreOptions>, 'maxEntries'>

const MEMORY_KEYS = ['maxEntries', 'maxBytes'] as const

/** An entry: the serialized session and when it expires (ms since the epoch). */
interface MemoryEntry {
  text: string
  expiresAt: number
}

const sizeOf = (entry: MemoryEntry, sid: string): number => sid.length + entry.text.length

/**
 * Sessions in this process's memory: bounded (`maxEntries`, optional `maxBytes`) with
 * least-recently-used eviction (`lru-cache`), each expiring with its cookie. Entries are the
 * serialized text, so every `get` returns a fresh copy. It runs no timer: an expired entry is
 * dropped when read, listed or evicted. For one process only; workers of a cluster need
 * `ClusterStore`.
 */
export class MemoryStore extends BaseStore {
  readonly #cache: LRUCache<string, MemoryEntry>
  readonly #maxBytes: number | undefined

  constructor (options: MemoryStoreOptions = {}) {
    super(options, MEMORY_KEYS)
    const opts = options as Record<string, unknown>
    const maxEntries = numberOption('maxEntries', opts.maxEntries ?? MEMORY_DEFAULTS.maxEntries, 1, true)
    this.#maxBytes = opts.maxBytes === undefined ? undefined : numberOption('maxBytes', opts.maxBytes, 1, true)
    this.#cache = this.#maxBytes === undefined
      ? new LRUCache({ max: maxEntries })
      : new LRUCache({ max: maxEntries, maxSize: this.#maxBytes, sizeCalculation: sizeOf })
  }

  protected read (sid: string): MemoryEntry | undefined {
    return this.#cache.get(sid)
  }

  protected write (sid: string, text: string, expiresAt: number): void {
    const entry = { text, expiresAt }
    if (this.#maxBytes !== undefined && sizeOf(entry, sid) > this.#maxBytes) {
      throw new FST_FLEET_SESSION_TOO_LARGE(sizeOf(entry, sid), this.#maxBytes)
    }
    this.#cache.set(sid, entry)
  }

  protected refresh (sid: string, expiresAt: number): boolean {
    const entry = this.#cache.get(sid)
    if (entry === undefined) return false
    entry.expiresAt = expiresAt
    return true
  }

  protected remove (sid: string): void {
    this.#cache.delete(sid)
  }

  protected count (): number {
    return this.listIds().length
  }

  protected listIds (): string[] {
    const now = this.options.now()
    const live: string[] = []
    const expired: string[] = []
    for (const [sid, entry] of this.#cache.entries()) {
      (entry.expiresAt <= now ? expired : live).push(sid)
    }
    for (const sid of expired) this.#cache.delete(sid)
    return live
  }

  protected removeAll (): void {
    this.#cache.clear()
  }

  protected override shutdown (): void {
    this.#cache.clear()
  }
}
