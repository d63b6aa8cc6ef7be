import { deliver, type StoreCallback } from '../async-call.js'
import type { SessionStore } from '../contract.js'
import { FST_FLEET_SESSION_CLOSED } from '../errors.js'
import { ChannelWatch, type InvalidationChannel } from '../invalidation.js'
import { NearCache, type NearCopy } from '../near-cache.js'
import type { NormalizedStoreOptions } from '../options.js'
import { expiryOf, snapshot, timeOf, type SessionInput, type SessionRecord } from '../record.js'
import { SignedIds } from '../signed-ids.js'
import { canSkipRefresh } from '../write-elision.js'
import type { BackendStore } from '../store.js'
import { isOutage, type StoreHealth, type StoreStats } from '../store-health.js'
import { normalizeTieredOptions, type NormalizedTieredOptions, type TieredStoreOptions } from './tiered-options.js'

export type { NearOptions, TieredReadPolicy, TieredStoreOptions } from './tiered-options.js'

/** The counters of the near cache. */
export interface NearStats {
  /** `get` calls answered with a near copy. */
  hits: number
  /** `get` calls that asked the inner store. */
  misses: number
  /** `get` calls answered with a near copy while the inner store was down (`readPolicy: 'stale'`). */
  stale: number
  /** Messages of other processes heard on the invalidation channel. */
  invalidations: number
  /** Copies held now. */
  size: number
  /** Whether the invalidation channel listens now; `null` without one. */
  listening: boolean | null
}

/** `stats()` of a `TieredStore`: the inner store's, and the near cache's. */
export interface TieredStoreStats extends StoreStats {
  near: NearStats
}

const validId = (sid: unknown): sid is string => typeof sid === 'string' && sid !== ''
const validSession = (session: unknown): session is object => session !== null && typeof session === 'object'

/**
 * A near cache in front of another store: `new TieredStore({ store: new RedisStore({ client }) })`.
 *
 * `get` answers from copies of recent sessions kept in this process (a fresh object on every hit,
 * never a live one), asking the inner store only for a session it has no fresh copy of; `set` and
 * `destroy` go through to the inner store and replace or drop the copy, and a set that only moves a
 * rolling cookie's expiry becomes the inner store's `touch` (or nothing, within `touchAfter`). A copy
 * is never served past the session's expiry. Other processes learn of a change (a set that changed
 * the data, a destroy, a clear) through the invalidation channel, by default the inner store's own
 * (Redis pub/sub, PostgreSQL `LISTEN`/`NOTIFY`, the cluster bus), published once the change landed
 * and before `set` or `destroy` resolves.
 *
 * The bound on a stale read, for a change made through a `TieredStore` in another process: while
 * both channels listen, until its message arrives (on one machine, 0.1–0.3 ms at p99); otherwise at
 * most `near.ttl` seconds: a copy is vouched for only by a channel that listened without a break since
 * the copy was made (a lost connection, or one not yet subscribed, vouches for none). A connection
 * that fails silently is noticed by a ping every `near.ttl` seconds unanswered within the inner
 * store's `timeout`: until then, at most `near.ttl` + `timeout`. A change nobody publishes (another
 * app on the same store, a script) goes unseen for at most `near.maxAge` seconds.
 */
export class TieredStore implements SessionStore {
  readonly #options: NormalizedTieredOptions
  readonly #store: BackendStore
  readonly #settings: Readonly<NormalizedStoreOptions>
  readonly #near: NearCache
  readonly #signedIds: SignedIds
  readonly #channel: InvalidationChannel | null
  readonly #ownsChannel: boolean
  readonly #watch: ChannelWatch | null
  readonly #counts = { hits: 0, misses: 0, stale: 0, invalidations: 0 }
  #closed = false

  constructor (options: TieredStoreOptions) {
    this.#options = normalizeTieredOptions(options)
    const { store, max, ttlMs, channel, ownsChannel } = this.#options
    this.#store = store
    this.#settings = store.options
    this.#near = new NearCache(max, this.#settings.serializer)
    this.#signedIds = new SignedIds(max)
    this.#ownsChannel = ownsChannel
    this.#channel = channel
    if (channel === null) {
      this.#watch = null
      return
    }
    this.#watch = new ChannelWatch(channel.ping?.bind(channel), Math.max(ttlMs, 100), this.#settings.timeout)
    const watch = this.#watch
    channel.subscribe((sid) => {
      this.#counts.invalidations++
      if (sid === null) this.#near.clear()
      else this.#near.drop(sid)
    }, (listening) => { watch.listening(listening) })
    watch.start()
  }

  get (sid: string): Promise<SessionRecord | null>
  get (sid: string, callback: StoreCallback<SessionRecord | null>): void
  get (sid: string, callback?: StoreCallback<SessionRecord | null>): Promise<SessionRecord | null> | undefined {
    return deliver(() => this.#get(sid), callback)
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
    return await this.#store.length()
  }

  async ids (): Promise<string[]> {
    this.#open('ids')
    return await this.#store.ids()
  }

  /** Removes every session of the inner store, and every copy here and (through the channel) elsewhere. */
  async clear (): Promise<void> {
    this.#open('clear')
    this.#near.clear()
    this.#signedIds.clear()
    await this.#store.clear()
    this.#near.clear()
    await this.#channel?.publish(null)
  }

  /** The inner store's counters, and the near cache's (`near`). */
  stats (): TieredStoreStats {
    const near: NearStats = { ...this.#counts, size: this.#near.size, listening: this.#watch === null ? null : this.#watch.epoch !== null }
    return { ...this.#store.stats(), near }
  }

  /** The inner store's health (`health()` of `BackendStore`). */
  async health (): Promise<StoreHealth> {
    return await this.#store.health()
  }

  /**
   * Stops listening on the invalidation channel (closing it when the store opened it), drops the
   * copies, and closes the inner store with `closeStore: true`. Calls after it fail with
   * `FST_FLEET_SESSION_CLOSED`. Idempotent.
   */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#watch?.stop()
    this.#near.clear()
    this.#signedIds.clear()
    if (this.#ownsChannel) await this.#channel?.close()
    if (this.#options.closeStore) await this.#store.close()
  }

  #get (sid: string): Promise<SessionRecord | null> | SessionRecord | null {
    this.#open('get')
    if (!validId(sid)) return this.#store.get(sid)
    const now = this.#settings.now()
    const copy = this.#near.get(sid)
    if (copy !== undefined && this.#fresh(copy, now)) {
      this.#counts.hits++
      return this.#signedIds.lend(sid, this.#near.handOut(copy))
    }
    this.#counts.misses++
    const epoch = this.#watch?.epoch ?? null
    const ticket = this.#near.startRead(sid)
    return this.#store.get(sid).then((record) => {
      if (record === null) {
        this.#near.endRead(ticket, null)
        return null
      }
      this.#signedIds.learn(sid, record)
      this.#near.endRead(ticket, this.#copyOf(record, copy, now, epoch))
      return record
    }, (err: unknown) => {
      this.#near.endRead(ticket, undefined)
      return this.#outage(sid, err)
    })
  }

  /** What a `get` that failed with `err` answers, by the read policy. */
  #outage (sid: string, err: unknown): SessionRecord | null {
    const { readPolicy } = this.#options
    if (readPolicy === 'error' || !isOutage(err)) throw err
    if (readPolicy === 'miss') return null
    const copy = this.#near.get(sid)
    if (copy?.expiresAt == null || copy.expiresAt <= this.#settings.now()) throw err
    this.#counts.stale++
    return this.#signedIds.lend(sid, this.#near.handOut(copy))
  }

  /** Whether `copy` may be served at `now` without asking the inner store. */
  #fresh (copy: NearCopy, now: number): boolean {
    const { expiresAt } = copy
    if (expiresAt === null) return now - copy.since < this.#options.ttlMs
    if (expiresAt <= now) return false
    const age = now - copy.since
    return age < this.#options.ttlMs || (age < this.#options.maxAgeMs && this.#watch?.vouches(copy.epoch) === true)
  }

  /**
   * The copy of `record`, read at `now`; `undefined` when the serializer cannot make one. It
   * expires with the cookie, else (a browser-session cookie, whose expiry the inner store keeps to
   * itself) when the session this process wrote does, as `previous` remembers, if still ahead.
   */
  #copyOf (record: SessionRecord, previous: NearCopy | undefined, now: number, epoch: number | null): NearCopy | undefined {
    const cookie = record.cookie
    const expires = cookie !== null && typeof cookie === 'object' ? timeOf(cookie.expires) : null
    const known = previous?.expiresAt != null && previous.expiresAt > now ? previous.expiresAt : null
    try {
      return this.#near.fromRead(record, expires ?? known, now, epoch)
    } catch {
      return undefined
    }
  }

  /** A snapshot of `session`; `null` when a getter of it throws (the inner store says what it makes of that). */
  #snapshot (session: object): SessionRecord | null {
    try {
      return snapshot(session)
    } catch {
      return null
    }
  }

  #set (sid: string, session: SessionInput): Promise<void> | undefined {
    this.#open('set')
    if (!validId(sid) || !validSession(session)) return this.#store.set(sid, session)
    this.#signedIds.learn(sid, session)
    const record = this.#snapshot(session)
    if (record === null) {
      this.#near.drop(sid)
      return this.#store.set(sid, session)
    }
    const now = this.#settings.now()
    const expiresAt = expiryOf(record, now, this.#settings.ttlMs)
    // an expired cookie: the inner store removes the session
    if (expiresAt <= now) return this.#removed(sid, this.#store.set(sid, session))
    const copy = this.#near.get(sid)
    // a rolled session (only its cookie's expiry moved on): nobody needs telling, the copy stays as it
    // is; a touch, which never writes the data back (the copy may be older than the store), or nothing
    // while the store's write elision would not move the expiry either (`touchAfter`)
    if (this.#settings.writeElision && copy !== undefined && expiresAt >= (copy.expiresAt ?? now) && this.#near.sameData(record, copy)) {
      if (copy.expiresAt !== null && canSkipRefresh(copy.expiresAt, expiresAt, now, this.#settings.touchAfterMs)) return
      return this.#store.touch(sid, session)
    }
    const epoch = this.#watch?.epoch ?? null
    const ticket = this.#near.startWrite(sid)
    return this.#store.set(sid, session).then(() => {
      let written: NearCopy | null = null
      try {
        written = this.#near.fromWrite(record, expiresAt, now, epoch)
      } catch {}
      this.#near.endWrite(ticket, written)
      return this.#publish(sid)
    }, (err: unknown) => {
      this.#near.endWrite(ticket, null)
      throw err
    })
  }

  #destroy (sid: string): Promise<void> {
    this.#open('destroy')
    if (!validId(sid)) return this.#store.destroy(sid)
    this.#signedIds.forget(sid)
    return this.#removed(sid, this.#store.destroy(sid))
  }

  #touch (sid: string, session: SessionInput): Promise<void> {
    this.#open('touch')
    if (!validId(sid) || !validSession(session)) return this.#store.touch(sid, session)
    // the data stays: the copy too (its expiry, earlier than the new one, only makes it ask sooner)
    const now = this.#settings.now()
    const record = this.#snapshot(session)
    const expired = record !== null && expiryOf(record, now, this.#settings.ttlMs) <= now
    const touched = this.#store.touch(sid, session)
    return expired ? this.#removed(sid, touched) : touched
  }

  /** `removal` (of the inner store) of session `sid`: its copy dropped before and after, and published once done. */
  #removed (sid: string, removal: Promise<void>): Promise<void> {
    this.#near.drop(sid)
    return removal.then(() => {
      // a read that started before the removal landed must not keep what it got
      this.#near.drop(sid)
      return this.#publish(sid)
    }, (err: unknown) => {
      this.#near.drop(sid)
      // it may have landed all the same: the others are told, without waiting
      this.#channel?.publish(sid).catch(() => {})
      throw err
    })
  }

  async #publish (sid: string): Promise<void> {
    await this.#channel?.publish(sid)
  }

  #open (op: string): void {
    if (this.#closed) throw new FST_FLEET_SESSION_CLOSED(op)
  }
}
