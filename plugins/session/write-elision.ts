import { hash } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { SessionRecord, StoredExpiry } from './record.js'

/** How many sessions read or written by this process are remembered for write elision. */
export const READ_MEMO_MAX = 10_000

/** Stored texts up to this many characters are kept as they are in a mark; longer ones as a hash. */
export const FINGERPRINT_TEXT_MAX = 512

/**
 * A text read, parsed and checked, kept so that reading the same text again costs a copy of it,
 * not a parse: the record (never handed out; `get` returns copies) and its cookie's expiry.
 */
export interface ParsedText {
  record: SessionRecord
  cookieExpires: number | null
}

/** A stored text, as a fingerprint, with its expiry fields. */
export interface TextMark extends StoredExpiry {
  /** The text, or its SHA-256 when longer than 512 characters. */
  fingerprint: string
  /** Whether `fingerprint` is a hash. */
  hashed: boolean
  /** The backend's expiry of the text (moved by each refresh since); `null` if it had none. */
  expiresAt: number | null
  /** Whether the text was read (not only written). */
  read: boolean
  /** The text parsed, once it was read twice and when kept as it is (not hashed). */
  parsed: ParsedText | undefined
}

/** What this process last read or wrote of a session. */
export interface ReadMark extends TextMark {
  /**
   * The text last read or written as a fingerprint; `''` while a write of this process is under
   * way (a write that fails or times out may or may not have replaced what was there) or after one failed.
   */
  fingerprint: string
  /** The last write of this process that has not answered yet, or `null`. */
  writing: TextMark | null
  /** A write of this process that landed while a later one was under way (what the backend holds until that one lands), or `null`. */
  landed: TextMark | null
}

/** A write under way, from `ReadMemo.writing`. */
export interface PendingWrite {
  readonly mark: ReadMark
  readonly text: TextMark
}

/** Whether `text` is what `mark` remembers. */
export const matches = (mark: TextMark, text: string): boolean =>
  (mark.hashed ? hash('sha256', text, 'base64') : text) === mark.fingerprint

/**
 * The backend's expiry of `text` as far as this process knows, when `text` is what it last read
 * or wrote of the session, what its write under way sends (a backend that answers in order, such
 * as one Redis connection, only gives that text back once the write has landed), or what an
 * earlier write that landed meanwhile sent; else `undefined`.
 */
export function knownExpiry (mark: ReadMark, text: string): number | null | undefined {
  if (mark.fingerprint !== '' && matches(mark, text)) return mark.expiresAt
  if (mark.writing !== null && matches(mark.writing, text)) return mark.writing.expiresAt
  if (mark.landed !== null && matches(mark.landed, text)) return mark.landed.expiresAt
  return undefined
}

/**
 * The sessions this process read or wrote last (bounded, least recently used first out), so that
 * `set` can tell a session that comes back unchanged from one that changed. A write through this
 * store voids the mark of its id (empty fingerprint) until the backend has taken it, then marks
 * what it wrote; a destroy drops the mark: a mark only ever matches what the backend held when it
 * was read or written.
 */
export class ReadMemo {
  readonly #marks = new LRUCache<string, ReadMark>({ max: READ_MEMO_MAX })

  /**
   * Remembers `text` as read for `sid`, with the cookie's stored expiry fields and the backend's
   * expiry. Texts up to 512 characters are kept as they are (a string compare costs less than a
   * hash, and a MemoryStore mark shares the string it stores), longer ones as their SHA-256.
   * `parsed`: the text parsed, for the next read of the same text (kept only with an unhashed one).
   */
  remember (sid: string, text: string, stored: StoredExpiry, expiresAt: number | null, parsed?: ParsedText): void {
    const next = textMark(text, stored, expiresAt)
    next.read = true
    if (!next.hashed) next.parsed = parsed
    const mark = this.#marks.get(sid)
    if (mark === undefined) this.#marks.set(sid, { ...next, writing: null, landed: null })
    else Object.assign(mark, next)
  }

  /** A write of `text` to `sid` starts. `mark`: its current one, if any. */
  writing (sid: string, mark: ReadMark | undefined, text: string, stored: StoredExpiry, expiresAt: number): PendingWrite {
    const next = textMark(text, stored, expiresAt)
    if (mark === undefined) {
      mark = { ...next, fingerprint: '', writing: next, landed: null }
      this.#marks.set(sid, mark)
    } else {
      mark.fingerprint = ''
      mark.parsed = undefined
      mark.writing = next
    }
    return { mark, text: next }
  }

  /**
   * The write answered, `landed` or not. Unless a later write of this process started meanwhile,
   * the mark then says what the backend holds, or nothing after a failure; with one under way, the
   * fingerprint stays empty (write elision waits for the last answer) and a read that gets this
   * text back still knows its expiry.
   */
  wrote ({ mark, text }: PendingWrite, landed: boolean): void {
    if (mark.writing !== text) {
      if (landed) mark.landed = text
      return
    }
    mark.writing = null
    mark.landed = null
    if (landed) Object.assign(mark, text)
  }

  recall (sid: string): ReadMark | undefined {
    return this.#marks.get(sid)
  }

  forget (sid: string): void {
    this.#marks.delete(sid)
  }

  clear (): void {
    this.#marks.clear()
  }
}

function textMark (text: string, stored: StoredExpiry, expiresAt: number | null): TextMark {
  const hashed = text.length > FINGERPRINT_TEXT_MAX
  return {
    fingerprint: hashed ? hash('sha256', text, 'base64') : text,
    hashed,
    expires: stored.expires,
    originalExpires: stored.originalExpires,
    expiresAt,
    read: false,
    parsed: undefined
  }
}

/**
 * Whether an unchanged session may keep the stored expiry: the new one is not earlier, and less
 * than `min(touchAfter, lifetime / 10)` later.
 */
export function canSkipRefresh (storedAt: number, newAt: number, now: number, touchAfterMs: number): boolean {
  const ahead = newAt - storedAt
  return ahead >= 0 && ahead < Math.min(touchAfterMs, (newAt - now) / 10)
}
