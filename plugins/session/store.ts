import { chain, deliver, isThenable, type StoreCallback } from './async-call.js'
import { BackendCalls } from './backend-calls.js'
import type { MaybePromise, SessionBackend } from './backend.js'
import { CircuitBreaker } from './circuit-breaker.js'
import type { SessionStore } from './contract.js'
import {
  FST_FLEET_SESSION_CLOSED, FST_FLEET_SESSION_CORRUPT, FST_FLEET_SESSION_INVALID_ID, FST_FLEET_SESSION_INVALID_OPTION,
  FST_FLEET_SESSION_INVALID_SESSION, FST_FLEET_SESSION_UNSERIALIZABLE
} from './errors.js'
import { report, sessionRef } from './log.js'
import { copyJson } from './json-record.js'
import { JSON_SERIALIZER, normalizeStoreOptions, type NormalizedStoreOptions, type StoreOptions } from './options.js'
import { applyExpiry, checkRecord, expiryOf, snapshot, type SessionInput, type SessionRecord } from './record.js'
import { SignedIds } from './signed-ids.js'
import { HEALTH_PROBE_ID, isOutage, logBreaker, type StoreHealth, type StoreStats } from './store-health.js'
import { WriteElision } from './write-elision.js'

const BACKEND_METHODS = ['read', 'write', 'refresh', 'remove', 'ids', 'clear', 'close'] as const

/**
 * A `@fastify/session` store over a `SessionBackend`: `new BackendStore(backend, options)`.
 * MemoryStore, ClusterStore and RedisStore are this class with their own backend.
 *
 * It gives the callback/promise dual API, id and session checks, serialization (a copy is stored,
 * never the live Session), expiry from the cookie (else `ttl`), the guarantee that an expired entry
 * is never returned, corrupt data read as "no session" and logged, backend calls coded and bounded
 * by `timeout` (`backend-calls.ts`) behind a circuit breaker (`circuit-breaker.ts`), the read policy
 * of an outage, stats and health (`store-health.ts`), write elision (`write-elision.ts`), and the
 * signed ids of the sessions it wrote handed back to `@fastify/session` (`signed-ids.ts`).
 */
export class BackendStore implements SessionStore {
  /** The store's options, checked, with their defaults (durations in milliseconds); read only. */
  readonly options: Readonly<NormalizedStoreOptions>
  readonly #backend: SessionBackend
  readonly #elision: WriteElision | null
  readonly #signedIds: SignedIds
  readonly #calls: BackendCalls
  readonly #breaker: CircuitBreaker | null
  readonly #counts = { hits: 0, misses: 0, breakerOpened: 0 }
  #closed = false

  constructor (backend: SessionBackend, options?: StoreOptions) {
    this.options = normalizeStoreOptions(options)
    for (const method of BACKEND_METHODS) {
      if (typeof (backend as unknown as Record<string, unknown> | null)?.[method] !== 'function') {
        throw new FST_FLEET_SESSION_INVALID_OPTION('backend', `expected an object with the methods ${BACKEND_METHODS.join(', ')}`)
      }
    }
    this.#backend = backend
    const { breaker, logger, now, timeout } = this.options
    this.#breaker = breaker === null
      ? null
      : new CircuitBreaker(breaker, now, (state, previous) => {
        if (state === 'open') this.#counts.breakerOpened++
        logBreaker(logger, state, previous)
      })
    this.#calls = new BackendCalls(backend, timeout, this.#breaker, [breaker?.failures ?? 0, (breaker?.windowMs ?? 0) / 1000])
    const { writeElision, elisionMemo, touchAfterMs, disableTouch } = this.options
    const keepParses = this.options.serializer === JSON_SERIALIZER
    this.#elision = writeElision ? new WriteElision({ maxSessions: elisionMemo, touchAfterMs, disableTouch, keepParses }) : null
    this.#signedIds = new SignedIds(elisionMemo)
  }

  get (sid: string): Promise<SessionRecord | null>
  get (sid: string, callback: StoreCallback<SessionRecord | null>): void
  get (sid: string, callback?: StoreCallback<SessionRecord | null>): Promise<SessionRecord | null> | undefined {
    return deliver(this.options.readPolicy === 'miss' ? () => this.#getOrMiss(sid) : () => this.#get(sid), callback)
  }

  set (sid: string, session: SessionInput): Promise<void>
  set (sid: string, session: SessionInput, callback: StoreCallback): void
  set (sid: string, session: SessionInput, callback?: StoreCallback): Promise<void> | undefined {
    return deliver(() => this.#set(sid, session), callback)
  }

  destroy (sid: string): Promise<void>
  destroy (sid: string, callback: StoreCallback): void
  destroy (sid: string, callback?: StoreCallback): Promise<void> | undefined {
    return deliver(() => this.#destroy(sid), callback)
  }

  touch (sid: string, session: SessionInput): Promise<void>
  touch (sid: string, session: SessionInput, callback: StoreCallback): void
  touch (sid: string, session: SessionInput, callback?: StoreCallback): Promise<void> | undefined {
    return deliver(() => this.#touch(sid, session), callback)
  }

  async length (): Promise<number> {
    this.#open('length')
    const backend = this.#backend
    if (backend.count !== undefined) return await this.#calls.run('length', () => (backend.count as () => MaybePromise<number>)())
    return (await this.#calls.run('length', () => backend.ids())).length
  }

  async ids (): Promise<string[]> {
    this.#open('ids')
    return await this.#calls.run('ids', () => this.#backend.ids())
  }

  async clear (): Promise<void> {
    this.#open('clear')
    this.#elision?.clear()
    this.#signedIds.clear()
    await this.#calls.run('clear', () => this.#backend.clear())
  }

  /** Counters since the store was made (hits, misses, failures, timeouts, refusals) and the breaker's state. */
  stats (): StoreStats {
    const { errors, timeouts, refused } = this.#calls.counts
    return { ...this.#counts, errors, timeouts, refused, breaker: this.#breaker?.state ?? null }
  }

  /**
   * Whether the backend answers now (one read, bounded by `timeout`), for a readiness endpoint.
   * Never rejects. While the breaker is open it answers at once, without a call; once the cooldown
   * has passed, it may be the probe that closes the breaker.
   */
  async health (): Promise<StoreHealth> {
    try {
      this.#open('health')
      await this.#calls.run('health', () => this.#backend.read(HEALTH_PROBE_ID))
      return { ok: true, breaker: this.#breaker?.state ?? null }
    } catch (err) {
      const { code, message } = err as { code: string, message: string }
      return { ok: false, breaker: this.#breaker?.state ?? null, error: { code, message } }
    }
  }

  /** Releases what the store created; calls after it fail with `FST_FLEET_SESSION_CLOSED`. Idempotent. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#elision?.clear()
    this.#signedIds.clear()
    await this.#calls.run('close', () => this.#backend.close(), false)
  }

  /** `get` with `readPolicy: 'miss'`: an outage reads as no session. */
  #getOrMiss (sid: string): MaybePromise<SessionRecord | null> {
    const outage = (err: unknown): null => {
      if (!isOutage(err)) throw err
      this.#counts.misses++
      return null
    }
    let result: MaybePromise<SessionRecord | null>
    try {
      result = this.#get(sid)
    } catch (err) {
      return outage(err)
    }
    return isThenable(result) ? result.then(undefined, outage) : result
  }

  #get (sid: string): MaybePromise<SessionRecord | null> {
    this.#check('get', sid)
    const { readText } = this.#backend
    if (readText !== undefined && this.#elision?.knowsExpiry(sid, this.options.now()) === true) {
      const elision = this.#elision
      return chain(this.#calls.run('get', () => readText.call(this.#backend, sid)), (text) =>
        text === null ? this.#missing(sid) : this.#found(sid, text, elision.expiryOf(sid, text)))
    }
    return this.#read(sid)
  }

  /** `get` through the backend's `read`, which gives the expiry. */
  #read (sid: string): MaybePromise<SessionRecord | null> {
    return chain(this.#calls.run('get', () => this.#backend.read(sid)), (entry) =>
      entry === null ? this.#missing(sid) : this.#found(sid, entry.text, entry.expiresAt))
  }

  #missing (sid: string): null {
    this.#counts.misses++
    this.#elision?.forget(sid)
    return null
  }

  /**
   * What `get` gives for the text read: `null` when it is corrupt or has expired. `expiresAt`: the
   * backend's expiry, `undefined` when the read did not say (the text alone, of a text this process
   * did not know). The stored cookie's `expires` stands for it then: a refresh only moves the
   * backend's expiry later. Once that has passed, `read` asks the backend.
   */
  #found (sid: string, text: string, expiresAt: number | null | undefined): MaybePromise<SessionRecord | null> {
    // a text read before: a copy of its kept parse (json-record.ts)
    const kept = this.#elision?.parsed(sid, text)
    const parsed = kept === undefined ? this.#parse(sid, text) : { record: copyJson(kept.record), cookieExpires: kept.cookieExpires }
    if (parsed === null) return this.#missing(sid)
    const { record, cookieExpires } = parsed
    const now = this.options.now()
    if (expiresAt === undefined) {
      if (cookieExpires !== null && cookieExpires <= now) return this.#read(sid)
      expiresAt = cookieExpires
    }
    // a backend without expiry (`null`) holds it until the stored cookie says it has expired
    const until = expiresAt ?? cookieExpires
    if (until !== null && until <= now) {
      this.#missing(sid)
      this.#removeExpired(sid)
      return null
    }
    this.#elision?.read(sid, text, record, cookieExpires, expiresAt)
    applyExpiry(record, expiresAt, cookieExpires)
    this.#counts.hits++
    return this.#signedIds.lend(sid, record)
  }

  /** The text parsed and checked as a session; `null` when it is not one (logged). */
  #parse (sid: string, text: string): { record: SessionRecord, cookieExpires: number | null } | null {
    let parsed: unknown
    let problem: string
    let cause: unknown
    try {
      parsed = this.options.serializer.parse(text)
      const check = checkRecord(parsed)
      if (check.problem === null) return { record: parsed as SessionRecord, cookieExpires: check.expires }
      problem = check.problem
    } catch (err) {
      problem = `it does not parse: ${(err as Error)?.message ?? String(err)}`
      cause = err
    }
    const ref = sessionRef(sid)
    report(this.options.logger, 'warn', new FST_FLEET_SESSION_CORRUPT(ref, problem, { cause }), { session: ref })
    return null
  }

  #set (sid: string, session: SessionInput): MaybePromise<void> {
    this.#checkSession('set', sid, session)
    this.#signedIds.learn(sid, session)
    const now = this.options.now()
    const record = this.#serialize(() => snapshot(session))
    const expiresAt = expiryOf(record, now, this.options.ttlMs)
    if (expiresAt <= now) return this.#destroy(sid)
    const elision = this.#elision
    if (elision === null) return this.#write(sid, this.#stringify(record), record, expiresAt)
    const plan = this.#serialize(() => elision.plan(sid, record, expiresAt, now, this.#stringify))
    if (plan.action === 'write') return this.#write(sid, plan.text, record, expiresAt)
    if (plan.action === 'nothing') return
    return chain(this.#calls.run('set', () => this.#backend.refresh(sid, expiresAt)), (refreshed) => {
      // gone since it was read (destroyed or evicted elsewhere): written again
      if (!refreshed) return this.#write(sid, this.#stringify(record), record, expiresAt)
      elision.refreshed(sid, expiresAt)
    })
  }

  /** `set`'s write of `text` (`record` serialized); write elision learns its outcome. */
  #write (sid: string, text: string, record: SessionRecord, expiresAt: number): MaybePromise<void> {
    const elision = this.#elision
    if (elision === null) return this.#calls.run('set', () => this.#backend.write(sid, text, expiresAt, record))
    const pending = elision.writing(sid, text, record, expiresAt)
    let written: MaybePromise<void>
    try {
      written = this.#calls.run('set', () => this.#backend.write(sid, text, expiresAt, record))
    } catch (err) {
      elision.wrote(pending, false)
      throw err
    }
    if (!isThenable(written)) return elision.wrote(pending, true)
    return written.then(() => { elision.wrote(pending, true) }, (err: unknown) => {
      elision.wrote(pending, false)
      throw err
    })
  }

  #destroy (sid: string): MaybePromise<void> {
    this.#check('destroy', sid)
    this.#elision?.forget(sid)
    this.#signedIds.forget(sid)
    return this.#calls.run('destroy', () => this.#backend.remove(sid))
  }

  #touch (sid: string, session: SessionInput): MaybePromise<void> {
    this.#checkSession('touch', sid, session)
    if (this.options.disableTouch) return
    const now = this.options.now()
    const expiresAt = expiryOf(this.#serialize(() => snapshot(session)), now, this.options.ttlMs)
    if (expiresAt <= now) return this.#destroy(sid)
    const elision = this.#elision
    if (elision?.skipsRefresh(sid, expiresAt, now) === true) return
    return chain(this.#calls.run('touch', () => this.#backend.refresh(sid, expiresAt)), (refreshed) => {
      if (refreshed) elision?.refreshed(sid, expiresAt)
    })
  }

  readonly #stringify = (record: SessionRecord): string => {
    const text: unknown = this.#serialize(() => this.options.serializer.stringify(record))
    if (typeof text !== 'string') throw new FST_FLEET_SESSION_UNSERIALIZABLE(`the serializer returned ${typeof text}, expected a string`)
    return text
  }

  /** Runs a serialization: what it throws (a BigInt, a cycle...) comes out as `FST_FLEET_SESSION_UNSERIALIZABLE`. */
  #serialize<T> (run: () => T): T {
    try {
      return run()
    } catch (err) {
      if (err instanceof FST_FLEET_SESSION_UNSERIALIZABLE) throw err
      throw new FST_FLEET_SESSION_UNSERIALIZABLE((err as Error).message, { cause: err })
    }
  }

  /** Removes an expired entry the backend still held, without making the caller wait. */
  #removeExpired (sid: string): void {
    const failed = (err: Error): void => { report(this.options.logger, 'error', err, { session: sessionRef(sid) }) }
    try {
      const removed = this.#calls.run('remove', () => this.#backend.remove(sid))
      if (isThenable(removed)) removed.then(undefined, failed)
    } catch (err) {
      failed(err as Error)
    }
  }

  #open (op: string): void {
    if (this.#closed) throw new FST_FLEET_SESSION_CLOSED(op)
  }

  #check (op: string, sid: unknown): void {
    this.#open(op)
    if (typeof sid !== 'string' || sid.length === 0) throw new FST_FLEET_SESSION_INVALID_ID(op, sid === '' ? 'an empty string' : typeof sid)
  }

  #checkSession (op: string, sid: unknown, session: unknown): void {
    this.#check(op, sid)
    if (session === null || typeof session !== 'object') throw new FST_FLEET_SESSION_INVALID_SESSION(op, session === null ? 'null' : typeof session)
  }
}
