import { LRUCache } from 'lru-cache'
import type { NormalizedCache } from './options.js'

/** An origin decision: refused, or allowed with the `Access-Control-Allow-Origin` value. */
export type Decision = { allow: false } | { allow: true, value: string }

export const REFUSED: Decision = Object.freeze({ allow: false })

/** Counters of one cache. */
export interface CacheStats {
  hits: number
  misses: number
  size: number
}

/**
 * Memoises the answers of origin functions: a bounded LRU with one TTL for allowed origins,
 * another for refused ones and a short one for failed lookups; concurrent lookups of one key
 * share one call.
 */
export class OriginDecisionCache {
  readonly #cache: LRUCache<string, Decision>
  readonly #pending = new Map<string, Promise<Decision>>()
  readonly #opts: NormalizedCache
  hits = 0
  misses = 0

  constructor (opts: NormalizedCache) {
    this.#opts = opts
    this.#cache = new LRUCache<string, Decision>({ max: opts.max, ttlAutopurge: false, ttlResolution: 0, perf: opts.clock })
  }

  /** The cached decision, a shared pending lookup, or a new lookup through `lookup`. */
  decide (key: string, lookup: () => Decision | Promise<Decision>): Decision | Promise<Decision> {
    const cached = this.#cache.get(key)
    if (cached !== undefined) {
      this.hits++
      return cached
    }
    const pending = this.#pending.get(key)
    if (pending !== undefined) {
      this.hits++
      return pending
    }
    this.misses++
    let result: Decision | Promise<Decision>
    try {
      result = lookup()
    } catch {
      return this.#store(key, REFUSED, this.#opts.errorTtl)
    }
    if (!(result instanceof Promise)) return this.#store(key, result, this.#ttl(result))
    const settled = this.#withTimeout(result).then(
      (decision) => this.#store(key, decision, this.#ttl(decision)),
      () => this.#store(key, REFUSED, this.#opts.errorTtl)
    ).finally(() => this.#pending.delete(key))
    this.#pending.set(key, settled)
    return settled
  }

  #ttl (decision: Decision): number {
    return decision.allow ? this.#opts.allowedTtl : this.#opts.refusedTtl
  }

  #store (key: string, decision: Decision, ttlSeconds: number): Decision {
    if (ttlSeconds > 0) this.#cache.set(key, decision, { ttl: ttlSeconds * 1000 })
    return decision
  }

  async #withTimeout (promise: Promise<Decision>): Promise<Decision> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      // not unref'd: a request waits on this lookup, so the process should too
      timer = setTimeout(() => reject(new Error('origin function timed out')), this.#opts.timeout)
    })
    try {
      return await Promise.race([promise, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Forgets the decisions about `origin` (every key starting with it), or all of them. */
  invalidate (origin?: string): void {
    if (origin === undefined) {
      this.#cache.clear()
      return
    }
    for (const key of [...this.#cache.keys()]) {
      if (key === origin || key.startsWith(origin + '\0')) this.#cache.delete(key)
    }
  }

  stats (): CacheStats {
    return { hits: this.hits, misses: this.misses, size: this.#cache.size }
  }
}
