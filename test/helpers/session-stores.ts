// Test backends for the session store base: a Map behind promise-returning hooks, with switchable
// faults, and a call log to count what reached the backend.
import { BaseStore, type MaybePromise, type StoredEntry, type StoreOptions } from '../../plugins/session/index.js'

/** How the backend misbehaves: never answers, rejects, or throws synchronously. */
export type Fault = 'none' | 'hang' | 'fail' | 'throw'

export interface MapStoreOptions extends StoreOptions {
  /** @default 'none' */
  fault?: Fault
  /**
   * `false`: `read` reports no expiry (`expiresAt: null`), as a backend without TTLs would.
   * `'unmarked'`: only a read without a mark reports it; one with a mark leaves it `undefined`
   * (as RedisStore's GETEX does for a text this process did not know).
   */
  reportsExpiry?: boolean | 'unmarked'
}

/** A store over a `Map` whose hooks answer with promises (so they run under the timeout). */
export class MapStore extends BaseStore {
  readonly entries = new Map<string, StoredEntry>()
  /** Hook calls, in order: `read`, `write`, `refresh`, `remove`, `count`, `listIds`, `removeAll`, `shutdown`. */
  readonly calls: string[] = []
  fault: Fault
  /** Hooks that reject (with `Error('<hook>: backend down')`) whatever `fault` says. */
  readonly failOn = new Set<string>()
  readonly #reportsExpiry: boolean | 'unmarked'

  constructor (options: MapStoreOptions = {}) {
    super(options, ['fault', 'reportsExpiry'])
    this.fault = options.fault ?? 'none'
    this.#reportsExpiry = options.reportsExpiry ?? true
  }

  /** The calls that changed the backend, then forgets them. */
  takeCalls (): string[] {
    return this.calls.splice(0)
  }

  #answer<T> (op: string, fn: () => T): MaybePromise<T> {
    this.calls.push(op)
    if (this.fault === 'throw') throw new Error(`${op}: thrown`)
    if (this.fault === 'hang') return new Promise<T>(() => {})
    if (this.fault === 'fail' || this.failOn.has(op)) return Promise.reject(new Error(`${op}: backend down`))
    return Promise.resolve().then(fn)
  }

  protected read (sid: string, known: unknown): MaybePromise<StoredEntry | undefined> {
    return this.#answer('read', () => {
      const entry = this.entries.get(sid)
      if (entry === undefined || this.#reportsExpiry === true) return entry
      if (this.#reportsExpiry === false) return { text: entry.text, expiresAt: null }
      return known === undefined ? entry : { text: entry.text, expiresAt: undefined }
    })
  }

  protected write (sid: string, text: string, expiresAt: number): MaybePromise<void> {
    return this.#answer('write', () => { this.entries.set(sid, { text, expiresAt }) })
  }

  protected refresh (sid: string, expiresAt: number): MaybePromise<boolean> {
    return this.#answer('refresh', () => {
      const entry = this.entries.get(sid)
      if (entry === undefined) return false
      entry.expiresAt = expiresAt
      return true
    })
  }

  protected remove (sid: string): MaybePromise<void> {
    return this.#answer('remove', () => { this.entries.delete(sid) })
  }

  protected count (): MaybePromise<number> {
    return this.#answer('count', () => this.#live().length)
  }

  protected listIds (): MaybePromise<string[]> {
    return this.#answer('listIds', () => this.#live())
  }

  protected removeAll (): MaybePromise<void> {
    return this.#answer('removeAll', () => { this.entries.clear() })
  }

  protected override shutdown (): MaybePromise<void> {
    return this.#answer('shutdown', () => {})
  }

  #live (): string[] {
    const now = this.options.now()
    return [...this.entries].filter(([, e]) => e.expiresAt == null || e.expiresAt > now).map(([sid]) => sid)
  }
}
