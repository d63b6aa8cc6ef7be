// Test backends for the session store core: a Map behind promise-returning methods, with switchable
// faults, and a call log to count what reached the backend.
import { BackendStore, type MaybePromise, type SessionBackend, type StoredSession, type StoreOptions } from '../../plugins/session/index.js'

/** How the backend misbehaves: never answers, rejects, or throws synchronously. */
export type Fault = 'none' | 'hang' | 'fail' | 'throw'

export interface MapStoreOptions extends StoreOptions {
  /** @default 'none' */
  fault?: Fault
  /** `false`: `read` reports no expiry (`expiresAt: null`), as a backend without TTLs would. @default true */
  reportsExpiry?: boolean
  /** The backend has `readText` (the text alone, as RedisStore's GETEX). @default false */
  readText?: boolean
}

/** A backend over a `Map` whose methods answer with promises (so they run under the timeout). */
export class MapBackend implements SessionBackend {
  readonly entries = new Map<string, StoredSession>()
  /** Calls, in order: `read`, `readText`, `write`, `refresh`, `remove`, `ids`, `clear`, `close`. */
  readonly calls: string[] = []
  fault: Fault = 'none'
  /** Methods that reject (with `Error('<method>: backend down')`) whatever `fault` says. */
  readonly failOn = new Set<string>()
  readonly readText: ((sid: string) => MaybePromise<string | null>) | undefined
  readonly #reportsExpiry: boolean
  readonly #now: () => number

  constructor (now: () => number, reportsExpiry = true, readText = false) {
    this.#now = now
    this.#reportsExpiry = reportsExpiry
    this.readText = readText ? (sid) => this.#answer('readText', () => this.entries.get(sid)?.text ?? null) : undefined
  }

  #answer<T> (op: string, fn: () => T): MaybePromise<T> {
    this.calls.push(op)
    if (this.fault === 'throw') throw new Error(`${op}: thrown`)
    if (this.fault === 'hang') return new Promise<T>(() => {})
    if (this.fault === 'fail' || this.failOn.has(op)) return Promise.reject(new Error(`${op}: backend down`))
    return Promise.resolve().then(fn)
  }

  read (sid: string): MaybePromise<StoredSession | null> {
    return this.#answer('read', () => {
      const entry = this.entries.get(sid)
      if (entry === undefined) return null
      return this.#reportsExpiry ? { ...entry } : { text: entry.text, expiresAt: null }
    })
  }

  write (sid: string, text: string, expiresAt: number): MaybePromise<void> {
    return this.#answer('write', () => { this.entries.set(sid, { text, expiresAt }) })
  }

  refresh (sid: string, expiresAt: number): MaybePromise<boolean> {
    return this.#answer('refresh', () => {
      const entry = this.entries.get(sid)
      if (entry === undefined) return false
      entry.expiresAt = expiresAt
      return true
    })
  }

  remove (sid: string): MaybePromise<void> {
    return this.#answer('remove', () => { this.entries.delete(sid) })
  }

  ids (): MaybePromise<string[]> {
    return this.#answer('ids', () => [...this.entries].filter(([, e]) => e.expiresAt == null || e.expiresAt > this.#now()).map(([sid]) => sid))
  }

  clear (): MaybePromise<void> {
    return this.#answer('clear', () => { this.entries.clear() })
  }

  close (): MaybePromise<void> {
    return this.#answer('close', () => {})
  }
}

/** A store over a `MapBackend`, with the backend's entries and call log at hand. */
export class MapStore extends BackendStore {
  readonly backend: MapBackend

  constructor ({ fault = 'none', reportsExpiry = true, readText = false, ...options }: MapStoreOptions = {}) {
    const backend = new MapBackend(options.now ?? Date.now, reportsExpiry, readText)
    backend.fault = fault
    super(backend, options)
    this.backend = backend
  }

  get entries (): Map<string, StoredSession> { return this.backend.entries }
  get failOn (): Set<string> { return this.backend.failOn }
  get fault (): Fault { return this.backend.fault }
  set fault (fault: Fault) { this.backend.fault = fault }

  /** The calls that reached the backend, then forgets them. */
  takeCalls (): string[] {
    return this.backend.calls.splice(0)
  }
}
