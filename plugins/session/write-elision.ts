/**
 * Write elision: with `rolling` (`@fastify/session`'s default) every request saves its session
 * again, changed or not. A store that remembers what it last read or wrote of a session can tell an
 * unchanged session from a changed one, and then only moves the backend's expiry (or nothing, while
 * the new expiry is close to the stored one) instead of rewriting the whole session.
 */
import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { compareJson, copyJson } from './json-record.js'
import { isRolling, type SessionRecord } from './record.js'

/** Stored texts up to this many characters are remembered as they are; longer ones as their SHA-256. */
export const FINGERPRINT_TEXT_MAX = 512

/** A text the backend holds, as this process remembers it. */
export interface KnownText {
  /** The text, or its SHA-256 (base64) when longer than `FINGERPRINT_TEXT_MAX` characters. */
  fingerprint: string
  /** The stored cookie's `expires`, as in the text. */
  expires: unknown
  /** The stored cookie's `originalExpires`, as in the text. */
  originalExpires: unknown
  /** The backend's expiry of the text, moved by each refresh since; `null` if it has none. */
  expiresAt: number | null
  /** The text's parse, kept from its second sighting on (`keepParses`); never handed out. */
  parsed?: ParsedText
}

/** A text's parse kept by write elision (`json-record.ts`), with the time of its cookie's `expires`. */
export interface ParsedText {
  record: SessionRecord
  cookieExpires: number | null
}

/** What this process knows of one session in the backend. */
export interface SessionState {
  /**
   * `stored`: the backend held `text` when this process last read, wrote or refreshed it;
   * `writing`: a write of `text` by this process is under way: until it answers, the backend holds
   * either it or what it held before, so `set` compares with neither.
   */
  phase: 'stored' | 'writing'
  text: KnownText
}

/** What `set` does with a session, as `plan` decides. */
export type SetPlan =
  | { action: 'write', text: string }
  | { action: 'refresh' }
  | { action: 'nothing' }

/** A write under way (from `writing`), to hand back to `wrote` when it answers. */
export interface PendingWrite {
  readonly sid: string
  /** What it sends. */
  readonly text: KnownText
}

/** Settings of `WriteElision`. */
export interface WriteElisionOptions {
  /** How many sessions are remembered (the last read or written first out). */
  maxSessions: number
  /** An unchanged session's expiry moves only once the new one is this much later (ms), see `canSkipRefresh`. */
  touchAfterMs: number
  /** An unchanged session never has its expiry moved. */
  disableTouch: boolean
  /**
   * Keep a copy of the parse of a text read again after it was read or written (up to
   * `FINGERPRINT_TEXT_MAX` characters), to copy on the next read of the same text and to compare a
   * rolled session with (`json-record.ts`): for the default JSON serializer only, whose parses are
   * plain JSON values.
   */
  keepParses: boolean
}

const fingerprint = (text: string): string => text.length > FINGERPRINT_TEXT_MAX ? hash('sha256', text, 'base64') : text

function knownText (text: string, record: SessionRecord, expiresAt: number | null): KnownText {
  const known: KnownText = { fingerprint: fingerprint(text), expires: undefined, originalExpires: undefined, expiresAt }
  storedExpiry(known, record)
  return known
}

/** Takes the cookie's `expires` and `originalExpires` of `record` as the text holds them (strings once read). */
function storedExpiry (known: KnownText, record: SessionRecord): void {
  const cookie = record.cookie
  const stored = cookie !== null && typeof cookie === 'object' ? cookie : {}
  known.expires = stored.expires
  known.originalExpires = stored.originalExpires
}

/**
 * Whether an unchanged session may keep the stored expiry: the new one is not earlier, and less
 * than `min(touchAfter, lifetime / 10)` later.
 */
export function canSkipRefresh (storedAt: number, newAt: number, now: number, touchAfterMs: number): boolean {
  const ahead = newAt - storedAt
  return ahead >= 0 && ahead < Math.min(touchAfterMs, (newAt - now) / 10)
}

/**
 * The text of `record` as it would be stored with its cookie's `expires` and `originalExpires` as
 * `known` has them: a rolling cookie's expiry moves on every request, and is not what makes a
 * session changed. A shallow copy with a copy of the cookie: the fields keep their order, and the
 * record is left as it is.
 */
function textWithKnownExpiry (record: SessionRecord, known: KnownText, stringify: (r: SessionRecord) => string): string {
  const cookie = { ...record.cookie, expires: known.expires, originalExpires: known.originalExpires } as SessionRecord['cookie']
  return stringify({ ...record, cookie })
}

/**
 * Whether `record` holds what the backend holds as `known`, a rolling cookie's expiry aside: from
 * the kept parse when that can tell, else by serializing it.
 */
function unchanged (record: SessionRecord, known: KnownText, stringify: (r: SessionRecord) => string): boolean {
  if (!isRolling(record)) return fingerprint(stringify(record)) === known.fingerprint
  const comparison = known.parsed === undefined ? 'unknown' : compareJson(record, known.parsed.record)
  if (comparison !== 'unknown') return comparison === 'same'
  return fingerprint(textWithKnownExpiry(record, known, stringify)) === known.fingerprint
}

/**
 * The sessions this process read or wrote last, each in a `SessionState`, and the decisions made
 * from them. A write voids what was known until it answers; a failed write, a destroy or a read
 * that finds nothing forgets the session: a `stored` state only ever names what the backend held.
 */
export class WriteElision {
  readonly #sessions: LRUCache<string, SessionState>
  readonly #touchAfterMs: number
  readonly #disableTouch: boolean
  readonly #keepParses: boolean

  constructor (options: WriteElisionOptions) {
    this.#sessions = new LRUCache({ max: options.maxSessions })
    this.#touchAfterMs = options.touchAfterMs
    this.#disableTouch = options.disableTouch
    this.#keepParses = options.keepParses
  }

  /** The state of `sid`, if remembered. */
  state (sid: string): SessionState | undefined {
    return this.#sessions.get(sid)
  }

  /** Whether this process knows an expiry of `sid` still ahead at `now` (so that reading the text alone is enough). */
  knowsExpiry (sid: string, now: number): boolean {
    const state = this.#sessions.get(sid)
    if (state === undefined) return false
    const { expiresAt } = state.text
    return expiresAt !== null && expiresAt > now
  }

  /**
   * The backend's expiry of `text`, read for `sid`, when it is the text this process last read or
   * wrote, or the one its write under way sends (a backend that answers in order, such as one Redis
   * connection, gives that back only once the write has landed); `undefined` when it is another.
   */
  expiryOf (sid: string, text: string): number | null | undefined {
    const state = this.#sessions.get(sid)
    if (state === undefined) return undefined
    return state.text.fingerprint === fingerprint(text) ? state.text.expiresAt : undefined
  }

  /** The kept parse of `text` when it is the text last read of `sid` (to be copied, never handed out). */
  parsed (sid: string, text: string): ParsedText | undefined {
    const state = this.#sessions.get(sid)
    return state?.phase === 'stored' && state.text.fingerprint === text ? state.text.parsed : undefined
  }

  /**
   * `text` (parsed as `record`, whose cookie expires at `cookieExpires`) was read for `sid`,
   * expiring at `expiresAt`. A read does not override a write under way.
   */
  read (sid: string, text: string, record: SessionRecord, cookieExpires: number | null, expiresAt: number | null): void {
    const state = this.#sessions.get(sid)
    if (state?.phase === 'writing') return
    if (state === undefined || state.text.fingerprint !== fingerprint(text)) {
      this.#sessions.set(sid, { phase: 'stored', text: knownText(text, record, expiresAt) })
      return
    }
    // the text known already (read or written before): updated in place
    const known = state.text
    known.expiresAt = expiresAt
    storedExpiry(known, record)
    // a text seen before (read, or written by this process) and read now is kept as its parse, a
    // copy (the caller gets `record`): a session that does not change is read again, one that
    // changes is compared with it; a text seen once may never be read again
    if (this.#keepParses && known.parsed === undefined && text.length <= FINGERPRINT_TEXT_MAX) {
      known.parsed = { record: copyJson(record), cookieExpires }
    }
  }

  /**
   * What `set` does with `record`, due to expire at `expiresAt`: write it when it differs from the
   * text the backend holds (or nothing is known), else move the expiry when it is far enough ahead,
   * else nothing. `stringify` turns a record into text (the store's serializer); what it throws
   * (and a getter of the session that throws) comes through.
   */
  plan (sid: string, record: SessionRecord, expiresAt: number, now: number, stringify: (r: SessionRecord) => string): SetPlan {
    const state = this.#sessions.get(sid)
    if (state?.phase !== 'stored' || !unchanged(record, state.text, stringify)) return { action: 'write', text: stringify(record) }
    return this.skipsRefresh(sid, expiresAt, now) ? { action: 'nothing' } : { action: 'refresh' }
  }

  /** Whether moving `sid`'s expiry to `expiresAt` can be left out (`disableTouch`, or close to the known one). */
  skipsRefresh (sid: string, expiresAt: number, now: number): boolean {
    if (this.#disableTouch) return true
    const state = this.#sessions.get(sid)
    const known = state?.phase === 'stored' ? state.text.expiresAt : null
    return known !== null && canSkipRefresh(known, expiresAt, now, this.#touchAfterMs)
  }

  /** The backend moved `sid`'s expiry to `expiresAt`. */
  refreshed (sid: string, expiresAt: number): void {
    const state = this.#sessions.get(sid)
    if (state?.phase === 'stored') state.text.expiresAt = expiresAt
  }

  /** A write of `text` (`record` serialized) to `sid` starts. */
  writing (sid: string, text: string, record: SessionRecord, expiresAt: number): PendingWrite {
    const sending = knownText(text, record, expiresAt)
    const state = this.#sessions.get(sid)
    if (state === undefined) this.#sessions.set(sid, { phase: 'writing', text: sending })
    else {
      state.phase = 'writing'
      state.text = sending
    }
    return { sid, text: sending }
  }

  /**
   * A write answered, `landed` or not. Only the last write of this process to a session decides:
   * after it, the backend holds what it sent, or (failed) nothing is known.
   */
  wrote ({ sid, text }: PendingWrite, landed: boolean): void {
    const state = this.#sessions.get(sid)
    if (state?.text !== text) return
    if (landed) state.phase = 'stored'
    else this.#sessions.delete(sid)
  }

  forget (sid: string): void {
    this.#sessions.delete(sid)
  }

  clear (): void {
    this.#sessions.clear()
  }
}
