import { LRUCache } from 'lru-cache'

/** An entry: the serialized session and when it expires (ms since the epoch). */
export interface MemoryEntry {
  text: string
  expiresAt: number
}

/** Bounds of a `MemoryEntries`. */
export interface MemoryLimits {
  maxEntries: number
  maxBytes?: number | undefined
}

/** The size `maxBytes` counts for an entry: the characters of its id and of its text. */
export const entrySize = (entry: MemoryEntry, sid: string): number => sid.length + entry.text.length

/**
 * Serialized sessions in memory, bounded by count (and optionally by size) with least-recently-used
 * eviction, each with its expiry. No timer: expired entries go when listed or evicted. Shared by
 * `MemoryStore` (in its own process) and the primary's side of `ClusterStore`.
 */
export class MemoryEntries {
  readonly #cache: LRUCache<string, MemoryEntry>
  readonly maxBytes: number | undefined

  constructor (limits: MemoryLimits) {
    this.maxBytes = limits.maxBytes
    this.#cache = limits.maxBytes === undefined
      ? new LRUCache({ max: limits.maxEntries })
      : new LRUCache({ max: limits.maxEntries, maxSize: limits.maxBytes, sizeCalculation: entrySize })
  }

  read (sid: string): MemoryEntry | undefined {
    return this.#cache.get(sid)
  }

  /** Stores the entry; `false` (and nothing stored) when it alone is larger than `maxBytes`. */
  write (sid: string, text: string, expiresAt: number): boolean {
    const entry = { text, expiresAt }
    if (this.maxBytes !== undefined && entrySize(entry, sid) > this.maxBytes) return false
    this.#cache.set(sid, entry)
    return true
  }

  /**
   * Moves the expiry of a live entry; `false` when there is none. An entry expired at `now` is
   * dropped, not brought back.
   */
  refresh (sid: string, expiresAt: number, now = -Infinity): boolean {
    const entry = this.#cache.get(sid)
    if (entry === undefined) return false
    if (entry.expiresAt <= now) {
      this.#cache.delete(sid)
      return false
    }
    entry.expiresAt = expiresAt
    return true
  }

  remove (sid: string): void {
    this.#cache.delete(sid)
  }

  /** The ids of the entries live at `now`; expired ones are dropped on the way. */
  ids (now: number): string[] {
    const live: string[] = []
    const expired: string[] = []
    for (const [sid, entry] of this.#cache.entries()) {
      (entry.expiresAt <= now ? expired : live).push(sid)
    }
    for (const sid of expired) this.#cache.delete(sid)
    return live
  }

  clear (): void {
    this.#cache.clear()
  }
}
