import { chain, Deadlines, deliver, isThenable, type MaybePromise, type StoreCallback } from './async-call.js'
import type { SessionStore } from './contract.js'
import {
  FST_FLEET_SESSION_BACKEND, FST_FLEET_SESSION_CLOSED, FST_FLEET_SESSION_CORRUPT, FST_FLEET_SESSION_INVALID_ID,
  FST_FLEET_SESSION_INVALID_SESSION, FST_FLEET_SESSION_TIMEOUT, FST_FLEET_SESSION_UNSERIALIZABLE
} from './errors.js'
import { report, sessionRef } from './log.js'
import { JSON_SERIALIZER, normalizeStoreOptions, type NormalizedStoreOptions, type StoreOptions } from './options.js'
import {
  applyExpiry, checkRecord, cloneParsed, expiryOf, isRolling, jsonComparison, jsonWithTail, sameData, snapshot, storedExpiry, withStoredExpiry,
  type RecordCheck, type SessionInput, type SessionRecord
} from './record.js'
import { SignedIds } from './signed-ids.js'
import { canSkipRefresh, FINGERPRINT_TEXT_MAX, matches, ReadMemo, type ParsedText, type ReadMark } from './write-elision.js'

/** What a backend holds under a session id. */
export interface StoredEntry {
  /** The serialized session, as written. */
  text: string
  /**
   * When the backend drops it, in milliseconds since the epoch; `null` if it has no expiry.
   * `undefined` when this read did not learn it: the base then takes the stored cookie's `expires`
   * for it (a refresh only moves the backend's expiry later), and when that has passed, reads again
   * with no mark (`read(sid, undefined)`), for the backend to say.
   */
  expiresAt?: number | null
}

/** An entry read and checked (`BaseStore`'s `#parse`). */
interface ReadRecord {
  entry: StoredEntry
  record: SessionRecord
  /** The time of the stored cookie's `expires`; `null` when it has none. */
  cookieExpires: number | null
  /** The parse of the same text kept from an earlier read, when `record` is it (to be copied, never handed out). */
  kept: ParsedText | undefined
  /**
   * Whether this process read the same text before (not only wrote it): a text read twice is
   * likely read again (a session that does not change), so its parse is worth keeping; one this
   * process has just written is likely changed again before long.
   */
  readBefore: boolean
}

const isFleetError = (err: unknown): boolean =>
  typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('FST_FLEET_SESSION_')

/** A backend's error as the caller gets it: ours as they are, any other as `FST_FLEET_SESSION_BACKEND`. */
const coded = (op: string, err: unknown): Error => isFleetError(err)
  ? err as Error
  : new FST_FLEET_SESSION_BACKEND(op, (err as Error)?.message ?? String(err), { cause: err })

/**
 * The machinery every store shares; a backend extends it and implements the protected hooks
 * (`read`, `write`, `refresh`, `remove`, `count`, `listIds`, `removeAll`, and `shutdown` if it owns
 * something). Hooks may answer synchronously or with a promise; a promise is bounded by `timeout`,
 * and whatever a hook throws or rejects with reaches the caller as `FST_FLEET_SESSION_BACKEND`.
 *
 * The base gives the callback/promise dual API, id and session checks, serialization (a copy is
 * stored, never the live Session), expiry from the cookie (else `ttl`), the guarantee that an
 * expired entry is never returned, corrupt data read as "no session" and logged, write elision, and
 * the signed ids of the sessions it wrote handed back to `@fastify/session` (`signed-ids.ts`).
 */
export abstract class BaseStore implements SessionStore {
  protected readonly options: NormalizedStoreOptions
  readonly #memo = new ReadMemo()
  readonly #signedIds = new SignedIds()
  #deadlines: Deadlines | undefined
  #closed = false

  /** `ownKeys`: the option names of the subclass, which validates them itself. */
  constructor (options: StoreOptions | undefined, ownKeys: readonly string[] = []) {
    this.options = normalizeStoreOptions(options, ownKeys)
  }

  /**
   * For a backend whose calls give up by themselves after `options.timeout`: which of the errors
   * its hooks reject with says so (the caller then gets `FST_FLEET_SESSION_TIMEOUT`). With it, the
   * base sets no timer of its own around each call; `null` (the default): the base bounds them.
   */
  protected get ownTimeout (): ((err: unknown) => boolean) | null { return null }

  /**
   * The stored entry of `sid`, or `undefined`. `known`: what this process last read or wrote of
   * it, with the backend's expiry since (write elision's mark; `undefined` when there is none), for
   * a backend that reads the text alone for less: when `knownExpiry(known, text)` of the text it
   * reads is not `undefined`, that is the entry's expiry as far as this process knows (another one
   * may have moved it later since).
   */
  protected abstract read (sid: string, known: ReadMark | undefined): MaybePromise<StoredEntry | undefined | null>
  /** Stores `text` under `sid` until `expiresAt` (always in the future), replacing any entry. */
  protected abstract write (sid: string, text: string, expiresAt: number): MaybePromise<void>
  /** Moves the expiry of `sid`'s entry without rewriting it; `false` when there is no entry. */
  protected abstract refresh (sid: string, expiresAt: number): MaybePromise<boolean>
  /** Removes `sid`'s entry, if any. */
  protected abstract remove (sid: string): MaybePromise<void>
  /** How many live entries the backend holds. */
  protected abstract count (): MaybePromise<number>
  /** The ids of the live entries. */
  protected abstract listIds (): MaybePromise<string[]>
  /** Removes every entry of this store. */
  protected abstract removeAll (): MaybePromise<void>
  /** Releases what the store created itself (connections, memory); runs once, from `close()`. */
  protected shutdown (): MaybePromise<void> {}

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
    return await this.#call('length', () => this.count())
  }

  async ids (): Promise<string[]> {
    this.#open('ids')
    return await this.#call('ids', () => this.listIds())
  }

  async clear (): Promise<void> {
    this.#open('clear')
    this.#memo.clear()
    this.#signedIds.clear()
    await this.#call('clear', () => this.removeAll())
  }

  /** Releases what the store created; calls after it fail with `FST_FLEET_SESSION_CLOSED`. Idempotent. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#memo.clear()
    this.#signedIds.clear()
    await this.#call('close', () => this.shutdown())
  }

  #get (sid: string): MaybePromise<SessionRecord | null> {
    this.#check('get', sid)
    const mark = this.#memo.recall(sid)
    return chain(this.#call('get', () => this.read(sid, mark)), (entry) => {
      const found = this.#parse(sid, entry, mark)
      if (found !== null && found.entry.expiresAt === undefined && found.cookieExpires !== null && found.cookieExpires <= this.options.now()) {
        // the stored cookie has expired, but a refresh may have moved the backend's expiry past it
        return chain(this.#call('get', () => this.read(sid, undefined)), (again) => this.#found(sid, this.#parse(sid, again, undefined)))
      }
      return this.#found(sid, found)
    })
  }

  /** What `get` gives for the entry read: `null` when there is none or it has expired. */
  #found (sid: string, found: ReadRecord | null): SessionRecord | null {
    if (found === null) return null
    const { entry, record, cookieExpires } = found
    const known = entry.expiresAt === undefined ? cookieExpires : entry.expiresAt
    const expiresAt = known ?? cookieExpires
    if (expiresAt !== null && expiresAt <= this.options.now()) {
      this.#memo.forget(sid)
      this.#removeExpired(sid)
      return null
    }
    if (this.options.writeElision) {
      this.#memo.remember(sid, entry.text, storedExpiry(record), known, found.kept ?? (found.readBefore ? this.#keep(entry.text, record, cookieExpires) : undefined))
    }
    // a kept parse is copied (never handed out); a fresh one is the caller's
    const out = this.#signedIds.lend(sid, record, found.kept !== undefined)
    applyExpiry(out, known, cookieExpires)
    return out
  }

  /**
   * The parse of a text to keep for the next read of it, taken before the record is handed out:
   * for the default serializer (whose records are what `cloneParsed` copies) and a text kept as it
   * is in the mark (not hashed), else `undefined`.
   */
  #keep (text: string, record: SessionRecord, cookieExpires: number | null): ParsedText | undefined {
    if (this.options.serializer !== JSON_SERIALIZER || text.length > FINGERPRINT_TEXT_MAX) return undefined
    return { record: cloneParsed(record), cookieExpires }
  }

  /**
   * The entry read, parsed and checked; `null` when there is none or it is corrupt (logged), its
   * mark forgotten then. `mark`: the session's mark when it was read; a text it kept the parse of
   * is copied from that, not parsed again.
   */
  #parse (sid: string, entry: StoredEntry | undefined | null, mark: ReadMark | undefined): ReadRecord | null {
    if (entry == null) {
      this.#memo.forget(sid)
      return null
    }
    const known = mark !== undefined && entry.text === mark.fingerprint
    const kept = known ? mark.parsed : undefined
    if (kept !== undefined) {
      return { entry, record: kept.record, cookieExpires: kept.cookieExpires, kept, readBefore: true }
    }
    const { serializer, logger } = this.options
    let parsed: unknown
    let check: RecordCheck
    let cause: unknown
    try {
      parsed = serializer.parse(entry.text)
      check = checkRecord(parsed)
    } catch (err) {
      check = { problem: `it does not parse: ${(err as Error)?.message ?? String(err)}` }
      cause = err
    }
    if (check.problem !== null) {
      this.#memo.forget(sid)
      const ref = sessionRef(sid)
      report(logger, 'warn', new FST_FLEET_SESSION_CORRUPT(ref, check.problem, { cause }), { session: ref })
      return null
    }
    return { entry, record: parsed as SessionRecord, cookieExpires: check.expires, kept: undefined, readBefore: known && mark.read }
  }

  #set (sid: string, session: SessionInput): MaybePromise<void> {
    this.#checkSession('set', sid, session)
    this.#signedIds.learn(sid, session)
    const now = this.options.now()
    const record = this.#serialize(() => snapshot(session))
    const expiresAt = expiryOf(record, now, this.options.ttlMs)
    if (expiresAt <= now) return this.#destroy(sid)

    let text: string | undefined
    /** The JSON of the session's own fields, when serialized for the comparison. */
    let tail: string | undefined
    const mark = this.#memo.recall(sid)
    if (mark !== undefined && mark.fingerprint !== '') {
      const rolling = isRolling(record)
      // the parse kept of the text read (default serializer), compared field by field; else the texts
      const kept = mark.parsed
      let unchanged = rolling && kept !== undefined && this.#serialize(() => sameData(record, kept.record))
      if (!unchanged) {
        let candidate: string | null
        if (rolling && this.options.serializer === JSON_SERIALIZER) {
          // the session's fields serialized once, for the text to compare and, if written, the one to store
          const compared = this.#serialize(() => jsonComparison(record, mark, mark.hashed ? undefined : mark.fingerprint))
          candidate = compared.candidate
          tail = compared.tail
        } else {
          candidate = rolling ? withStoredExpiry(record, mark, (r) => this.#stringify(r)) : this.#stringify(record)
          if (!rolling) text = candidate
        }
        unchanged = candidate !== null && matches(mark, candidate)
      }
      if (unchanged) {
        // unchanged since read: at most the expiry moves
        if (this.options.disableTouch) return
        if (mark.expiresAt !== null && canSkipRefresh(mark.expiresAt, expiresAt, now, this.options.touchAfterMs)) return
        const serialized = text
        const fields = tail
        return chain(this.#call('set', () => this.refresh(sid, expiresAt)), (refreshed) => {
          if (!refreshed) return this.#write(sid, record, mark, serialized, fields, expiresAt) // gone since it was read: write it again
          mark.expiresAt = expiresAt
        })
      }
    }
    return this.#write(sid, record, mark, text, tail, expiresAt)
  }

  /**
   * `set`'s write of `record`: `text` when already serialized, else built from it (with `tail`,
   * its fields' JSON, when `jsonComparison` gave them). `mark`: the session's mark when `set` began.
   */
  #write (sid: string, record: SessionRecord, mark: ReadMark | undefined, text: string | undefined, tail: string | undefined, expiresAt: number): MaybePromise<void> {
    const out = text ?? (tail === undefined ? this.#stringify(record) : this.#serialize(() => jsonWithTail(record, tail)))
    if (!this.options.writeElision) return this.#call('set', () => this.write(sid, out, expiresAt))
    // once the write has landed, the backend holds this text until this expiry: the next read
    // trusts both, as it would after reading them (RedisStore then reads with one GETEX, not its script)
    const pending = this.#memo.writing(sid, mark, out, storedExpiry(record), expiresAt)
    let written: MaybePromise<void>
    try {
      written = this.#call('set', () => this.write(sid, out, expiresAt))
    } catch (err) {
      this.#memo.wrote(pending, false)
      throw err
    }
    if (!isThenable(written)) {
      this.#memo.wrote(pending, true)
      return
    }
    return written.then(() => { this.#memo.wrote(pending, true) }, (err: unknown) => {
      this.#memo.wrote(pending, false)
      throw err
    })
  }

  #destroy (sid: string): MaybePromise<void> {
    this.#check('destroy', sid)
    this.#memo.forget(sid)
    this.#signedIds.forget(sid)
    return this.#call('destroy', () => this.remove(sid))
  }

  #touch (sid: string, session: SessionInput): MaybePromise<void> {
    this.#checkSession('touch', sid, session)
    if (this.options.disableTouch) return
    const now = this.options.now()
    const expiresAt = expiryOf(this.#serialize(() => snapshot(session)), now, this.options.ttlMs)
    if (expiresAt <= now) return this.#destroy(sid)
    const mark = this.#memo.recall(sid)
    if (mark?.expiresAt != null && canSkipRefresh(mark.expiresAt, expiresAt, now, this.options.touchAfterMs)) return
    return chain(this.#call('touch', () => this.refresh(sid, expiresAt)), (refreshed) => {
      if (refreshed && mark !== undefined) mark.expiresAt = expiresAt
    })
  }

  #stringify (record: Record<string, unknown>): string {
    const text: unknown = this.#serialize(() => this.options.serializer.stringify(record))
    if (typeof text !== 'string') throw new FST_FLEET_SESSION_UNSERIALIZABLE(`the serializer returned ${typeof text}, expected a string`)
    return text
  }

  /** Runs a serialization: what it throws (a BigInt, a cycle...) comes out as `FST_FLEET_SESSION_UNSERIALIZABLE`. */
  #serialize<T> (run: () => T): T {
    try {
      return run()
    } catch (err) {
      throw new FST_FLEET_SESSION_UNSERIALIZABLE((err as Error).message, { cause: err })
    }
  }

  /** Removes an expired entry the backend still held, without making the caller wait. */
  #removeExpired (sid: string): void {
    const failed = (err: Error): void => { report(this.options.logger, 'error', err, { session: sessionRef(sid) }) }
    try {
      const removed = this.#call('remove', () => this.remove(sid))
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

  /**
   * Runs a hook: its errors coded (a synchronous one thrown), its promise bounded by `timeout`. A
   * synchronous answer is returned as it is.
   */
  #call<T> (op: string, hook: () => MaybePromise<T>): MaybePromise<T> {
    let result: MaybePromise<T>
    try {
      result = hook()
    } catch (err) {
      throw coded(op, err)
    }
    return isThenable(result) ? this.#bounded(op, result) : result
  }

  /** A hook's promise, its rejection coded and, unless the backend bounds its calls itself, bounded by `timeout`. */
  #bounded<T> (op: string, result: PromiseLike<T>): Promise<T> {
    const { timeout } = this.options
    const own = this.ownTimeout
    if (own === null) return (this.#deadlines ??= new Deadlines(timeout)).bound(result, () => new FST_FLEET_SESSION_TIMEOUT(op, timeout), (err) => coded(op, err))
    return Promise.resolve(result).then(undefined, (err: unknown) => {
      throw own(err) ? new FST_FLEET_SESSION_TIMEOUT(op, timeout) : coded(op, err)
    })
  }
}
