/**
 * Write elision: with `rolling` (`@fastify/session`'s default) every request saves its session
 * again, changed or not. A store that remembers what it last read or wrote of a session can tell an
 * unchanged session from a changed one, and then only moves the backend's expiry (or nothing, while
 * the new expiry is close to the stored one) instead of rewriting the whole session.
 */
import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
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
}

/**
 * What this process knows of one session in the backend:
 * - `stored`: the backend held `text` when this process last read, wrote or refreshed it;
 * - `writing`: a write of this process is under way: until it answers, the backend holds either
 *   the text it sends or what it held before, so `set` compares with neither.
 */
export type SessionState =
  | { phase: 'stored', text: KnownText }
  | { phase: 'writing', sending: KnownText }

/** What `set` does with a session, as `plan` decides. */
export type SetPlan =
  | { action: 'write', text: string }
  | { action: 'refresh' }
  | { action: 'nothing' }

/** A write under way (from `writing`), to hand back to `wrote` when it answers. */
export interface PendingWrite {
  readonly sid: string
  readonly state: SessionState
}

/** Settings of `WriteElision`. */
export interface WriteElisionOptions {
  /** How many sessions are remembered (the last read or written first out). */
  maxSessions: number
  /** An unchanged session's expiry moves only once the new one is this much later (ms), see `canSkipRefresh`. */
  touchAfterMs: number
  /** An unchanged session never has its expiry moved. */
  disableTouch: boolean
}

const fingerprint = (text: string): string => text.length > FINGERPRINT_TEXT_MAX ? hash('sha256', text, 'base64') : text

function knownText (text: string, record: SessionRecord, expiresAt: number | null): KnownText {
  const cookie = record.cookie
  const stored = cookie !== null && typeof cookie === 'object' ? cookie : {}
  return { fingerprint: fingerprint(text), expires: stored.expires, originalExpires: stored.originalExpires, expiresAt }
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
 * session changed. The cookie is the store's own copy (`snapshot`); it gets its values back.
 */
function textWithKnownExpiry (record: SessionRecord, known: KnownText, stringify: (r: SessionRecord) => string): string {
  const cookie = record.cookie as Record<string, unknown>
  const { expires, originalExpires } = cookie
  cookie.expires = known.expires
  cookie.originalExpires = known.originalExpires
  try {
    return stringify(record)
  } finally {
    cookie.expires = expires
    cookie.originalExpires = originalExpires
  }
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

  constructor (options: WriteElisionOptions) {
    this.#sessions = new LRUCache({ max: options.maxSessions })
    this.#touchAfterMs = options.touchAfterMs
    this.#disableTouch = options.disableTouch
  }

  /** The state of `sid`, if remembered. */
  state (sid: string): SessionState | undefined {
    return this.#sessions.get(sid)
  }

  /** Whether this process knows an expiry of `sid` still ahead at `now` (so that reading the text alone is enough). */
  knowsExpiry (sid: string, now: number): boolean {
    const state = this.#sessions.get(sid)
    if (state === undefined) return false
    const { expiresAt } = state.phase === 'stored' ? state.text : state.sending
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
    const known = state.phase === 'stored' ? state.text : state.sending
    return known.fingerprint === fingerprint(text) ? known.expiresAt : undefined
  }

  /** `text` (parsed as `record`) was read for `sid`, expiring at `expiresAt`. A read does not override a write under way. */
  read (sid: string, text: string, record: SessionRecord, expiresAt: number | null): void {
    if (this.#sessions.get(sid)?.phase === 'writing') return
    this.#sessions.set(sid, { phase: 'stored', text: knownText(text, record, expiresAt) })
  }

  /**
   * What `set` does with `record`, due to expire at `expiresAt`: write it when it differs from the
   * text the backend holds (or nothing is known), else move the expiry when it is far enough ahead,
   * else nothing. `stringify` turns a record into text (the store's serializer).
   */
  plan (sid: string, record: SessionRecord, expiresAt: number, now: number, stringify: (r: SessionRecord) => string): SetPlan {
    const state = this.#sessions.get(sid)
    if (state?.phase !== 'stored') return { action: 'write', text: stringify(record) }
    const known = state.text
    const rolling = isRolling(record)
    const compared = rolling ? textWithKnownExpiry(record, known, stringify) : stringify(record)
    if (fingerprint(compared) !== known.fingerprint) return { action: 'write', text: rolling ? stringify(record) : compared }
    if (!this.skipsRefresh(sid, expiresAt, now)) return { action: 'refresh' }
    return { action: 'nothing' }
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
    const state: SessionState = { phase: 'writing', sending: knownText(text, record, expiresAt) }
    this.#sessions.set(sid, state)
    return { sid, state }
  }

  /**
   * A write answered, `landed` or not. Only the last write of this process to a session decides:
   * after it, the backend holds what it sent, or (failed) nothing is known.
   */
  wrote ({ sid, state }: PendingWrite, landed: boolean): void {
    if (this.#sessions.get(sid) !== state || state.phase !== 'writing') return
    if (landed) this.#sessions.set(sid, { phase: 'stored', text: state.sending })
    else this.#sessions.delete(sid)
  }

  forget (sid: string): void {
    this.#sessions.delete(sid)
  }

  clear (): void {
    this.#sessions.clear()
  }
}
